"""POST /anon-consistent/tools/bulk-anonymize against a real Orthanc: native's call, one project mapping."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pydicom
import pytest

from tests.dicom_data import ct_study, encoded, mr_patient, reidentified
from tests.orthanc_server import OrthancServer, wait_until

BULK = "/anon-consistent/tools/bulk-anonymize"
METADATA = "AnonConsistentFrom"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("bulk")) as orthanc:
        yield orthanc


def upload(server: OrthancServer, datasets: list[pydicom.Dataset], patient_id: str) -> list[dict[str, str]]:
    return server.upload_all(encoded(reidentified(datasets, patient_id)))


def counts(server: OrthancServer) -> tuple[int, int, int, int]:
    statistics = server.json("/statistics")
    return tuple(int(statistics[f"Count{level}"]) for level in ("Instances", "Series", "Studies", "Patients"))  # type: ignore[return-value]


def test_one_instance_gives_a_new_resource_at_every_level(server: OrthancServer) -> None:
    (stored, *_) = upload(server, ct_study()[:1], "BULK-ONE")
    answer = server.post(BULK, {"Resources": [stored["ID"]]}).json()
    assert [r["Type"] for r in answer["Resources"]] == ["Instance", "Series", "Study", "Patient"]
    assert answer["InstancesCount"] == 1 and answer["FailedInstancesCount"] == 0
    assert answer["Description"] == "REST API" and answer["IsAnonymization"] is True
    sources = {
        "Instance": stored["ID"],
        "Series": stored["ParentSeries"],
        "Study": stored["ParentStudy"],
        "Patient": stored["ParentPatient"],
    }
    for resource in answer["Resources"]:
        assert resource["Path"] == f"/{resource['Path'].split('/')[1]}/{resource['ID']}"
        assert resource["AnonymizedFrom"] == sources[resource["Type"]] != resource["ID"]
        level = resource["Path"].split("/")[1]
        assert server.get(f"/{level}/{resource['ID']}/metadata/{METADATA}").text == sources[resource["Type"]]


def test_two_studies_of_two_patients_share_one_project_mapping(server: OrthancServer) -> None:
    ct = upload(server, ct_study(), "BULK-CT")
    mr = upload(server, [d for d in mr_patient() if d.StudyInstanceUID == mr_patient()[0].StudyInstanceUID], "BULK-MR")
    before = counts(server)
    resources = [ct[0]["ParentStudy"], mr[0]["ParentPatient"]]
    answer = server.post(BULK, {"Resources": resources, "Project": "bulk-two"}).json()
    assert answer["InstancesCount"] == len(ct) + len(mr)
    by_type: dict[str, list[str]] = {}
    for resource in answer["Resources"]:
        by_type.setdefault(resource["Type"], []).append(resource["ID"])
    assert len(by_type["Study"]) == 2 and len(by_type["Patient"]) == 2
    assert len(by_type["Series"]) == len({a["ParentSeries"] for a in ct + mr})
    after = counts(server)
    assert after[0] - before[0] == len(ct) + len(mr) and after[3] - before[3] == 2
    # The same study anonymized alone in the project is the same study.
    alone = server.post(f"/anon-consistent/studies/{ct[0]['ParentStudy']}", {"Project": "bulk-two"}).json()
    assert alone["ID"] in by_type["Study"] and counts(server) == after


def test_a_study_and_one_of_its_instances_are_anonymized_once(server: OrthancServer) -> None:
    stored = upload(server, ct_study(), "BULK-OVERLAP")
    answer = server.post(BULK, {"Resources": [stored[0]["ParentStudy"], stored[2]["ID"]]}).json()
    assert answer["InstancesCount"] == len(stored) and answer["FailedInstancesCount"] == 0
    assert len([r for r in answer["Resources"] if r["Type"] == "Instance"]) == len(stored)


def test_an_unknown_resource_is_404_and_nothing_is_done(server: OrthancServer) -> None:
    stored = upload(server, ct_study()[:1], "BULK-404")
    unknown = "00000000-00000000-00000000-00000000-00000000"
    before = counts(server)
    response = server.post(BULK, {"Resources": [stored[0]["ID"], unknown]})
    assert response.status_code == 404 and unknown in response.json()["Message"]
    assert counts(server) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Resources": "x"},
        {"Resources": [1]},
        {"Resources": [], "Foo": 1},
        {"Resources": ["0946FCB6-CF12AB43-BAD958C1-BF057AD5-0FC6F54C"]},
    ],
)
def test_bad_bodies_are_400(server: OrthancServer, body: dict[str, object]) -> None:
    response = server.post(BULK, body)
    assert response.status_code == 400, response.text
    assert response.json()["Message"]


def test_an_empty_list_answers_zero_counts(server: OrthancServer) -> None:
    answer = server.post(BULK, {"Resources": []}).json()
    assert answer["Resources"] == [] and answer["InstancesCount"] == 0 and answer["FailedInstancesCount"] == 0


def test_keep_source_false_deletes_every_source(server: OrthancServer) -> None:
    stored = upload(server, ct_study()[:2], "BULK-MOVE")
    answer = server.post(BULK, {"Resources": [s["ID"] for s in stored], "KeepSource": False}).json()
    assert answer["SourceDeleted"] is True and answer["InstancesCount"] == 2
    for source in stored:
        assert server.get(f"/instances/{source['ID']}").status_code == 404
    for resource in answer["Resources"]:
        # The link names a source that is gone, as native's AnonymizedFrom would.
        assert resource["AnonymizedFrom"] in {s["ID"] for s in stored} | {
            s[k] for s in stored for k in ("ParentSeries", "ParentStudy", "ParentPatient")
        }


def test_an_asynchronous_bulk_call_is_a_job_with_the_same_answer(server: OrthancServer) -> None:
    stored = upload(server, ct_study(), "BULK-JOB")
    job = server.post(BULK, {"Resources": [stored[0]["ParentStudy"]], "Asynchronous": True}).json()
    state = wait_until(
        lambda: (j := server.json(job["Path"]))["State"] in ("Success", "Failure") and j, what="the bulk job"
    )
    assert state["State"] == "Success", state
    content = state["Content"]
    assert content["InstancesCount"] == len(stored) and content["Description"] == "REST API"
    assert {r["Type"] for r in content["Resources"]} == {"Instance", "Series", "Study", "Patient"}
    new_instance = next(r["ID"] for r in content["Resources"] if r["Type"] == "Instance")
    anonymized = pydicom.dcmread(BytesIO(server.instance_bytes(new_instance)))
    assert anonymized.PatientID != "BULK-JOB"
