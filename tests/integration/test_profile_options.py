"""PS3.15 options in a real Orthanc: parsing answers, what the stored output records, Retain UIDs beside the source.

The server runs with "OverwriteInstances": true, the setting under which a
result with its source's Orthanc ID would silently replace the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pydicom
import pytest

from anon_consistent.orthanc_ids import orthanc_instance_id
from tests.dicom_data import encoded, reidentified, rt_study
from tests.integration.conftest import fingerprint, stored_datasets
from tests.option_data import pet_series, with_identifying_details
from tests.orthanc_server import OrthancServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("options"), OverwriteInstances=True) as orthanc:
        yield orthanc


def upload_study(server: OrthancServer, datasets: list[pydicom.Dataset]) -> str:
    answers = server.upload_all(encoded(reidentified(datasets)))
    (study,) = {a["ParentStudy"] for a in answers}
    return str(study)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Options": ["RetainUIDs", "RetainEverything"]}, "valid options are: RetainSafePrivate, RetainUIDs"),
        ({"Options": ["RetainLongitudinalFullDates"], "ShiftDates": True}, "exclude each other"),
        ({"Options": ["RetainUIDs"], "Keep": ["PatientID"]}, "Orthanc ID of its source"),
        ({"Options": "CleanDescriptors"}, '"Options" must be a list'),
    ],
)
def test_bad_options_answer_400_and_change_nothing(server: OrthancServer, body: object, message: str) -> None:
    study = upload_study(server, pet_series(1))
    before = server.json("/studies")
    response = server.post(f"/anon-consistent/studies/{study}", body)
    assert response.status_code == 400 and message in response.json()["Message"]
    assert response.json()["HttpStatus"] == 400
    assert server.json("/studies") == before


def test_the_stored_output_records_every_option(server: OrthancServer) -> None:
    originals = [with_identifying_details(ds) for ds in pet_series()]
    study = upload_study(server, originals)
    names = ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates", "CleanDescriptors"]
    response = server.post(f"/anon-consistent/studies/{study}", {"Options": names, "ShiftDates": True})
    assert response.status_code == 200, response.text
    for output in stored_datasets(server, "studies", response.json()["ID"]):
        codes = [c.CodeValue for c in output.DeidentificationMethodCodeSequence]
        assert codes == ["113100", "113108", "113107", "113105"]
        assert list(output.DeidentificationMethod)[2:] == [
            "Retain Patient Characteristics Option",
            "Retain Longitudinal Temporal Information Modified Dates Option",
            "Clean Descriptors Option",
        ]
        assert output.LongitudinalTemporalInformationModified == "MODIFIED"
        assert output.PatientWeight == 72.5 and output.SeriesDescription == "AX T1"
        assert "StationName" not in output  # Type 3 in PET: removed


def test_orthanc_names_instances_as_the_engine_computes(server: OrthancServer) -> None:
    (ds,) = reidentified(pet_series(1))
    stored = server.upload(encoded([ds])[0])
    expected = orthanc_instance_id(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    assert stored["ID"] == expected


def test_retain_uids_stores_the_result_beside_its_source(server: OrthancServer, tmp_path: Path) -> None:
    study = upload_study(server, rt_study()[-4:])
    sources = fingerprint(server, study)
    body = {"Options": ["RetainUIDs"], "Project": "retain-uids"}
    first = server.post(f"/anon-consistent/studies/{study}", body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["InstancesCount"] == 4 and answer["FailedInstancesCount"] == 0 and answer["ID"] != study
    originals = {pydicom.dcmread(BytesIO(server.instance_bytes(i))).SOPInstanceUID for i in sources}
    outputs = stored_datasets(server, "studies", answer["ID"])
    assert {o.SOPInstanceUID for o in outputs} == originals
    assert {o.StudyInstanceUID for o in outputs} == {
        server.json(f"/studies/{study}")["MainDicomTags"]["StudyInstanceUID"]
    }
    assert fingerprint(server, study) == sources  # the sources are untouched
    again = server.post(f"/anon-consistent/studies/{study}", body)  # the latest call wins, as without the option
    assert again.status_code == 200 and again.json()["ID"] == answer["ID"]
    assert fingerprint(server, study) == sources
    # Without the option the project refuses the retained UIDs, each instance with the reason.
    plain = server.post(f"/anon-consistent/studies/{study}", {"Project": "retain-uids"})
    assert plain.status_code == 500, plain.text
    failed = plain.json()["Details"]["FailedInstances"]
    assert len(failed) == 4
    assert all("project retain-uids retained the UIDs of this instance" in f["Error"] for f in failed)
    assert not any(uid in plain.text for uid in originals)
    assert stored_datasets(server, "studies", answer["ID"]) and fingerprint(server, study) == sources


def test_retain_uids_never_overwrites_a_source(server: OrthancServer) -> None:
    study = upload_study(server, rt_study()[-2:])
    sources = fingerprint(server, study)
    patient_id = server.json(f"/studies/{study}")["PatientMainDicomTags"]["PatientID"]
    body = {"Options": ["RetainUIDs"], "Replace": {"PatientID": patient_id}, "Project": "same-patient"}
    response = server.post(f"/anon-consistent/studies/{study}", body)
    assert response.status_code == 500, response.text  # every instance failed, each with its reason
    failed = response.json()["Details"]["FailedInstances"]
    assert len(failed) == 2 and all("would overwrite its source" in f["Error"] for f in failed)
    assert fingerprint(server, study) == sources
    assert all(not pydicom.dcmread(BytesIO(server.instance_bytes(i))).get("PatientIdentityRemoved") for i in sources)
