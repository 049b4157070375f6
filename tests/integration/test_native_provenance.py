"""Provenance, native URLs and Description, against a real Orthanc.

Native anonymization links each new resource to its source with the system
metadata AnonymizedFrom, which Orthanc lets no plugin write; the plugin keeps
the same link in the user metadata AnonConsistentFrom (4201, declared in the
shipped orthanc.json) and answers it as "AnonymizedFrom".
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pydicom
import pytest

from tests.dicom_data import ct_study, encoded, reidentified, rt_study
from tests.orthanc_server import OrthancServer

METADATA = "AnonConsistentFrom"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("provenance"), {"AllowMappingExport": True}) as orthanc:
        yield orthanc


def upload_study(server: OrthancServer, datasets: list[pydicom.Dataset]) -> str:
    answers = server.upload_all(encoded(reidentified(datasets)))
    (study,) = {a["ParentStudy"] for a in answers}
    return str(study)


def metadata(server: OrthancServer, level: str, resource_id: str) -> str | None:
    response = server.get(f"/{level}/{resource_id}/metadata/{METADATA}")
    return response.text if response.status_code == 200 else None


def test_every_new_resource_points_to_its_source_at_the_same_level(server: OrthancServer) -> None:
    study = upload_study(server, ct_study())
    answer = server.post(f"/anon-consistent/studies/{study}", {"Replace": {"PatientName": "Jodogne"}}).json()
    assert answer["AnonymizedFrom"] == study and answer["Description"] == "REST API"
    new_study = answer["ID"]
    assert metadata(server, "studies", new_study) == study
    source_patient = server.json(f"/studies/{study}")["ParentPatient"]
    assert metadata(server, "patients", answer["PatientID"]) == source_patient
    source_series = {s["ID"] for s in server.json(f"/studies/{study}/series")}
    new_series = server.json(f"/studies/{new_study}/series")
    assert len(new_series) == 2
    for series in new_series:
        assert metadata(server, "series", series["ID"]) in source_series
        assert series["ParentStudy"] == new_study
        for instance in server.json(f"/series/{series['ID']}/instances"):
            source = metadata(server, "instances", instance["ID"])
            assert source is not None and instance["ParentSeries"] == series["ID"]
            # The source instance lies in the source series the new series points to.
            assert server.json(f"/instances/{source}")["ParentSeries"] == metadata(server, "series", series["ID"])
            tags = server.json(f"/instances/{instance['ID']}/simplified-tags")
            assert tags["PatientName"] == "Jodogne"

    provenance = server.json(f"/anon-consistent/studies/{new_study}/provenance")
    assert provenance == {
        "ID": new_study,
        "Type": "Study",
        "AnonymizedFrom": study,
        "SourceExists": True,
        "Metadata": METADATA,
    }
    # A source has no source.
    assert server.json(f"/anon-consistent/studies/{study}/provenance")["AnonymizedFrom"] is None
    # And back, from the mapping: guarded like the mapping export, allowed on this server.
    back = server.json(f"/anon-consistent/studies/{study}/anonymized?project=default")
    assert back["Anonymized"] == [{"ID": new_study, "Path": f"/studies/{new_study}"}]
    series_id = next(iter(source_series))
    back_series = server.json(f"/anon-consistent/series/{series_id}/anonymized")["Anonymized"]
    assert [metadata(server, "series", s["ID"]) for s in back_series] == [series_id]
    # A project that never saw this study has no copy of it.
    other = upload_study(server, ct_study()[:1])
    assert server.post(f"/anon-consistent/studies/{other}", {"Project": "other"}).status_code == 200
    assert server.json(f"/anon-consistent/studies/{study}/anonymized?project=other")["Anonymized"] == []


def test_unknown_resources_and_projects_are_404(server: OrthancServer) -> None:
    unknown = "00000000-00000000-00000000-00000000-00000000"
    for path in (f"/anon-consistent/studies/{unknown}/provenance", f"/anon-consistent/series/{unknown}/anonymized"):
        response = server.get(path)
        assert response.status_code == 404 and unknown in response.json()["Message"]
    study = upload_study(server, ct_study()[:1])
    assert server.get(f"/anon-consistent/studies/{study}/anonymized?project=nope").status_code == 404


def test_the_way_back_is_closed_by_default(orthanc: OrthancServer) -> None:
    study = upload_study(orthanc, ct_study()[:1])
    assert orthanc.post(f"/anon-consistent/studies/{study}", {}).status_code == 200
    response = orthanc.get(f"/anon-consistent/studies/{study}/anonymized")
    assert response.status_code == 403 and "AllowMappingExport" in response.json()["Message"]


def test_the_native_instance_url_answers_the_file_and_stores_nothing(server: OrthancServer) -> None:
    study = upload_study(server, ct_study()[:1])
    (instance,) = server.study_instances(study)
    source = pydicom.dcmread(BytesIO(server.instance_bytes(instance)))
    count = len(server.json("/instances"))
    body = {"Project": "file-answer", "Keep": ["0008-1030", "0008,103E"], "KeepSource": False}
    response = server.post(f"/anon-consistent/instances/{instance}/anonymize", body)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/dicom"
    answered = pydicom.dcmread(BytesIO(response.content))
    assert answered.SOPInstanceUID != source.SOPInstanceUID and answered.PatientID != source.PatientID
    assert answered.StudyDescription == source.StudyDescription  # kept with the gggg-eeee form
    assert answered.file_meta.MediaStorageSOPInstanceUID == answered.SOPInstanceUID
    assert len(server.json("/instances")) == count  # nothing stored, the source not deleted (as native)
    # The mapping was recorded: a later stored call in the project agrees with the file.
    stored = server.post(f"/anon-consistent/instances/{instance}", {"Project": "file-answer"}).json()
    again = pydicom.dcmread(BytesIO(server.instance_bytes(stored["ID"])))
    assert (again.SOPInstanceUID, again.StudyInstanceUID, again.PatientID) == (
        answered.SOPInstanceUID,
        answered.StudyInstanceUID,
        answered.PatientID,
    )


def test_accept_dicom_on_our_route_answers_the_file(server: OrthancServer) -> None:
    study = upload_study(server, ct_study()[:1])
    (instance,) = server.study_instances(study)
    count = len(server.json("/instances"))
    dicom = {"Accept": "application/dicom"}
    response = server.post(f"/anon-consistent/instances/{instance}", {}, headers=dicom)
    assert response.status_code == 200 and response.content[128:132] == b"DICM"
    assert len(server.json("/instances")) == count
    # A browser's "*/*" keeps the JSON answer (and stores).
    answer = server.post(f"/anon-consistent/instances/{instance}", {}, headers={"Accept": "*/*"}).json()
    assert answer["Type"] == "Instance" and answer["AnonymizedFrom"] == instance
    # A transcoded file cannot be promised: the file keeps its source's transfer syntax.
    jpeg = {"Accept": "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50"}
    assert server.post(f"/anon-consistent/instances/{instance}", {}, headers=jpeg).status_code == 406
    for body in ({"Asynchronous": True}, {"KeepSource": False}):
        refused = server.post(f"/anon-consistent/instances/{instance}", body, headers=dicom)
        assert refused.status_code == 400 and "nothing is stored" in refused.json()["Message"]
    missing = server.post("/anon-consistent/instances/00000000-00000000-00000000-00000000-00000000/anonymize", {})
    assert missing.status_code == 404


def test_native_level_urls_work_with_the_prefix(server: OrthancServer) -> None:
    study = upload_study(server, rt_study())
    answer = server.post(f"/anon-consistent/studies/{study}/anonymize", {"Project": "native-url"}).json()
    assert answer["Type"] == "Study" and answer["InstancesCount"] == len(rt_study())
    assert answer["Description"] == "REST API" and answer["AnonymizedFrom"] == study
    job = server.post(f"/anon-consistent/studies/{study}/anonymize", {"Asynchronous": True}).json()
    assert job["Path"].startswith("/anon-consistent/jobs/")


def test_provenance_can_be_turned_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    with OrthancServer(tmp_path_factory.mktemp("no-provenance"), {"ProvenanceMetadata": False}) as server:
        study = upload_study(server, ct_study()[:1])
        answer = server.post(f"/anon-consistent/studies/{study}", {}).json()
        assert answer["AnonymizedFrom"] == study  # the answer still says what was anonymized
        (instance,) = server.study_instances(answer["ID"])
        names = server.json(f"/instances/{instance}/metadata?expand")
        assert "ReceptionDate" in names and METADATA not in names
        assert metadata(server, "studies", answer["ID"]) is None
        response = server.get(f"/anon-consistent/studies/{answer['ID']}/provenance")
        assert response.status_code == 404 and "ProvenanceMetadata" in response.json()["Message"]
        assert server.json("/anon-consistent")["ProvenanceMetadata"] is None


@pytest.mark.parametrize("patient_id", [" LEADING", "TWO\\VALUES"])
def test_links_name_orthancs_own_parents_whatever_the_patient_id(server: OrthancServer, patient_id: str) -> None:
    # " LEADING" and "LEADING" are two patients to Orthanc: a link computed by
    # trimming both ends would name the other one, which exists too.
    twin = reidentified(ct_study()[:1], patient_id.strip().split("\\")[0])
    server.upload_all(encoded(twin))
    datasets = reidentified(ct_study()[:2], "placeholder")
    for dataset in datasets:
        dataset.PatientID = patient_id
    answers = server.upload_all(encoded(datasets))
    source_patient = answers[0]["ParentPatient"]
    answer = server.post(f"/anon-consistent/studies/{answers[0]['ParentStudy']}", {"Project": "odd-ids"}).json()
    assert answer["FailedInstancesCount"] == 0
    assert metadata(server, "patients", answer["PatientID"]) == source_patient
    assert metadata(server, "studies", answer["ID"]) == answers[0]["ParentStudy"]
    for series in server.json(f"/studies/{answer['ID']}/series"):
        assert metadata(server, "series", series["ID"]) == answers[0]["ParentSeries"]


def test_a_kept_patient_is_not_marked_as_its_own_copy(server: OrthancServer) -> None:
    answers = server.upload_all(encoded(reidentified(ct_study()[:1], "KEPT-PATIENT")))
    answer = server.post(f"/anon-consistent/studies/{answers[0]['ParentStudy']}", {"Keep": ["PatientID"]}).json()
    assert answer["PatientID"] == answers[0]["ParentPatient"]  # the same patient in Orthanc
    assert metadata(server, "patients", answer["PatientID"]) is None
    assert server.json(f"/anon-consistent/patients/{answer['PatientID']}/provenance")["AnonymizedFrom"] is None
    assert metadata(server, "studies", answer["ID"]) == answers[0]["ParentStudy"]


def test_a_forged_link_is_no_link(server: OrthancServer) -> None:
    answers = server.upload_all(encoded(reidentified(ct_study()[:1], "FORGED")))
    patient = answers[0]["ParentPatient"]
    assert server.put(f"/patients/{patient}/metadata/{METADATA}", f"{patient}/archive").status_code == 200
    provenance = server.json(f"/anon-consistent/patients/{patient}/provenance")
    assert provenance["AnonymizedFrom"] is None and provenance["SourceExists"] is False
