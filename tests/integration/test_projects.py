"""One mapping per project: consistency across calls, levels, restarts, threads and servers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import ct_study, encoded, mr_patient, reidentified
from tests.integration.conftest import stored_datasets
from tests.orthanc_server import OrthancServer


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """An Orthanc whose operator allowed the honest-broker export."""
    with OrthancServer(tmp_path_factory.mktemp("broker"), plugin_config={"AllowMappingExport": True}) as server:
        yield server


def upload_series(server: OrthancServer, datasets: list[Dataset]) -> dict[str, list[str]]:
    """Upload; return Orthanc series ID -> instance IDs."""
    series: dict[str, list[str]] = {}
    for answer in server.upload_all(encoded(datasets)):
        series.setdefault(answer["ParentSeries"], []).append(answer["ID"])
    return series


def three_series_one_frame_of_reference() -> list[Dataset]:
    """98892001 has two CT series sharing a FoR; a third series is cut from the second."""
    datasets = reidentified(ct_study())
    third_series = "2.25.1" + str(time.time_ns())
    for ds in datasets[-2:]:
        ds.SeriesInstanceUID = third_series
    return datasets


def anonymize(server: OrthancServer, level: str, resource: str, **body: object) -> dict[str, object]:
    response = server.post(f"/anon-consistent/{level}/{resource}", body)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_series_by_series_gives_one_study_one_patient_one_frame_of_reference(broker: OrthancServer) -> None:
    series = upload_series(broker, three_series_one_frame_of_reference())
    assert len(series) == 3
    answers = [anonymize(broker, "series", s, Project="series-calls") for s in series]
    assert {a["Type"] for a in answers} == {"Series"}
    assert all(a["Path"] == f"/series/{a['ID']}" for a in answers)
    studies = {broker.json(f"/series/{a['ID']}")["ParentStudy"] for a in answers}
    assert len(studies) == 1
    study = studies.pop()
    assert len({a["PatientID"] for a in answers}) == 1
    outputs = stored_datasets(broker, "studies", study)
    assert len(outputs) == 7 and len({d.SeriesInstanceUID for d in outputs}) == 3
    assert len({d.FrameOfReferenceUID for d in outputs}) == 1


def test_instance_and_patient_levels(broker: OrthancServer) -> None:
    datasets = reidentified(ct_study(), patient_id="LEVELS-1")
    instances = [a["ID"] for a in broker.upload_all(encoded(datasets))]
    one = anonymize(broker, "instances", instances[0], Project="levels")
    assert one["Type"] == "Instance" and one["Path"] == f"/instances/{one['ID']}" and one["InstancesCount"] == 1
    patient = broker.json(f"/instances/{instances[0]}/patient")["ID"]
    whole = anonymize(broker, "patients", patient, Project="levels")
    assert whole["Type"] == "Patient" and whole["ID"] == whole["PatientID"] and whole["InstancesCount"] == 7
    # The instance anonymized first is the same object in the patient-level result, not a copy.
    patient_instances = [i["ID"] for i in broker.json(f"/patients/{whole['ID']}/instances")]
    assert one["ID"] in patient_instances and len(patient_instances) == 7


def test_same_patient_same_pseudonym_and_date_shift_across_studies(broker: OrthancServer) -> None:
    originals = reidentified(mr_patient(), patient_id="SHIFT-PATIENT")
    by_study: dict[str, list[Dataset]] = {}
    for ds in originals:
        by_study.setdefault(ds.StudyInstanceUID, []).append(ds)
    answers = []
    for datasets in by_study.values():
        study = broker.upload_all(encoded(datasets))[0]["ParentStudy"]
        answers.append(anonymize(broker, "studies", study, Project="shift", ShiftDates=True))
    assert len({a["PatientID"] for a in answers}) == 1
    shifts = set()
    for answer, datasets in zip(answers, by_study.values(), strict=True):
        outputs = stored_datasets(broker, "studies", str(answer["ID"]))
        assert {str(d.PatientName) for d in outputs} == {str(outputs[0].PatientID)} != {"SHIFT-PATIENT"}
        original_dates = {d.StudyDate for d in datasets}
        new_dates = {d.StudyDate for d in outputs}
        assert len(original_dates) == len(new_dates) == 1
        shifts.add(_days(new_dates.pop()) - _days(original_dates.pop()))
        assert all(d.LongitudinalTemporalInformationModified == "MODIFIED" for d in outputs)
    assert len(shifts) == 1 and shifts.pop() < 0


def attachment_uuids(server: OrthancServer, study: str) -> dict[str, str]:
    """Instance ID -> UUID of its stored file: a new UUID means the file was replaced."""
    return {
        i["ID"]: server.json(f"/instances/{i['ID']}/attachments/dicom/info")["Uuid"]
        for i in server.json(f"/studies/{study}/instances")
    }


def _days(value: str) -> int:
    return dt.datetime.strptime(value, "%Y%m%d").toordinal()


def test_rerun_is_idempotent_and_latest_options_win(broker: OrthancServer) -> None:
    datasets = reidentified(ct_study())
    for ds in datasets:
        ds.StudyDescription = "Kept only on request"
    study = broker.upload_all(encoded(datasets))[0]["ParentStudy"]
    first = anonymize(broker, "studies", study, Project="rerun")
    studies = sorted(broker.json("/studies"))
    files = attachment_uuids(broker, str(first["ID"]))
    second = anonymize(broker, "studies", study, Project="rerun")
    assert second == first
    assert sorted(broker.json("/studies")) == studies
    assert attachment_uuids(broker, str(first["ID"])) == files  # identical output: nothing rewritten
    assert {d.get("StudyDescription", "") for d in stored_datasets(broker, "studies", str(first["ID"]))} == {""}
    third = anonymize(broker, "studies", study, Project="rerun", Keep=["StudyDescription"])
    assert third["ID"] == first["ID"] and sorted(broker.json("/studies")) == studies
    replaced = attachment_uuids(broker, str(first["ID"]))
    assert replaced.keys() == files.keys() and set(replaced.values()).isdisjoint(files.values())
    outputs = stored_datasets(broker, "studies", str(first["ID"]))
    assert len(outputs) == 7
    assert {d.StudyDescription for d in outputs} == {"Kept only on request"}


def test_instances_arriving_later_join_the_same_anonymized_study(broker: OrthancServer) -> None:
    datasets = reidentified(ct_study())
    study = broker.upload_all(encoded(datasets[:3]))[0]["ParentStudy"]
    first = anonymize(broker, "studies", study, Project="late")
    assert first["InstancesCount"] == 3
    broker.upload_all(encoded(datasets[3:]))
    second = anonymize(broker, "studies", study, Project="late")
    assert second["ID"] == first["ID"] and second["InstancesCount"] == 7
    assert len(broker.json(f"/studies/{first['ID']}/instances")) == 7


def test_two_projects_share_nothing(broker: OrthancServer) -> None:
    study = broker.upload_all(encoded(reidentified(ct_study())))[0]["ParentStudy"]
    a = anonymize(broker, "studies", study, Project="alpha")
    b = anonymize(broker, "studies", study, Project="beta")
    assert a["ID"] != b["ID"] and a["PatientID"] != b["PatientID"]
    uids_a = {d.SOPInstanceUID for d in stored_datasets(broker, "studies", str(a["ID"]))}
    uids_b = {d.SOPInstanceUID for d in stored_datasets(broker, "studies", str(b["ID"]))}
    assert uids_a.isdisjoint(uids_b)


def test_concurrent_series_calls_give_one_study_without_duplicates(broker: OrthancServer) -> None:
    series = upload_series(broker, three_series_one_frame_of_reference())
    answers: list[dict[str, object]] = []
    errors: list[str] = []

    def call(series_id: str) -> None:
        response = broker.post(f"/anon-consistent/series/{series_id}", {"Project": "concurrent"})
        (answers.append(response.json()) if response.status_code == 200 else errors.append(response.text))

    threads = [threading.Thread(target=call, args=(s,)) for s in series for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 6
    studies = {broker.json(f"/series/{a['ID']}")["ParentStudy"] for a in answers}
    assert len(studies) == 1
    outputs = stored_datasets(broker, "studies", studies.pop())
    assert len(outputs) == 7 and len({d.SOPInstanceUID for d in outputs}) == 7
    assert len({d.FrameOfReferenceUID for d in outputs}) == 1


def test_export_and_lookup_for_the_honest_broker(broker: OrthancServer) -> None:
    datasets = reidentified(ct_study(), patient_id="BROKER-1")
    study = broker.upload_all(encoded(datasets))[0]["ParentStudy"]
    answer = anonymize(broker, "studies", study, Project="broker")
    new = stored_datasets(broker, "studies", str(answer["ID"]))[0]

    projects = {p["Project"]: p for p in broker.json("/anon-consistent/projects")}
    assert projects["broker"]["Counts"]["PatientID"] == 1
    mapping = broker.json("/anon-consistent/projects/broker/mapping")["Mapping"]
    pairs = {(m["Kind"], m["Original"]): m["Anonymized"] for m in mapping}
    assert pairs[("PatientID", "BROKER-1")] == new.PatientID
    assert pairs[("UID", datasets[0].StudyInstanceUID)] == new.StudyInstanceUID

    rows = list(csv.DictReader(io.StringIO(broker.get("/anon-consistent/projects/broker/mapping?format=csv").text)))
    assert {"kind": "PatientID", "original": "BROKER-1", "anonymized": new.PatientID} in [
        {k: r[k] for k in ("kind", "original", "anonymized")} for r in rows
    ]
    forward = broker.json(f"/anon-consistent/projects/broker/lookup?value={datasets[0].StudyInstanceUID}")
    backward = broker.json(f"/anon-consistent/projects/broker/lookup?value={new.StudyInstanceUID}")
    assert forward["Matches"] == backward["Matches"] and len(forward["Matches"]) == 1

    assert broker.get("/anon-consistent/projects/nope/mapping").status_code == 404
    assert broker.get("/anon-consistent/projects/broker/lookup?value=1.2.3.4.5.6.7").status_code == 404
    assert broker.get("/anon-consistent/projects/broker/mapping?format=xml").status_code == 400
    assert broker.delete("/anon-consistent/projects/broker").status_code == 200
    assert broker.get("/anon-consistent/projects/broker/mapping").status_code == 404


def test_export_is_forbidden_unless_enabled(orthanc: OrthancServer) -> None:
    for method, path in [
        ("GET", "/anon-consistent/projects"),
        ("GET", "/anon-consistent/projects/default/mapping"),
        ("GET", "/anon-consistent/projects/default/lookup?value=1.2.3"),
        ("DELETE", "/anon-consistent/projects/default"),
    ]:
        response = orthanc.get(path) if method == "GET" else orthanc.delete(path)
        assert response.status_code == 403, (method, path, response.text)
        assert "AllowMappingExport" in response.json()["Message"]


def test_mapping_survives_a_restart(tmp_path: Path) -> None:
    with OrthancServer(tmp_path) as server:
        datasets = reidentified(ct_study())
        study = server.upload_all(encoded(datasets[:4]))[0]["ParentStudy"]
        first = anonymize(server, "studies", study, Project="restart")
        server.restart()
        server.upload_all(encoded(datasets[4:]))
        second = anonymize(server, "studies", study, Project="restart")
        assert second["ID"] == first["ID"] and second["PatientID"] == first["PatientID"]
        assert len(server.json(f"/studies/{first['ID']}/instances")) == 7
        assert (tmp_path / "storage" / "anon-consistent-mapping.sqlite").exists()


def test_hmac_mode_agrees_across_two_servers_without_shared_storage(tmp_path: Path) -> None:
    config = {"UidStrategy": "hmac", "Secret": "correct horse battery staple", "AllowMappingExport": True}
    # The two servers also use the two transfer paths: loopback HTTP and the plugin SDK.
    with (
        OrthancServer(tmp_path / "one", plugin_config=config) as one,
        OrthancServer(tmp_path / "two", plugin_config={**config, "LoopbackHttp": False}) as two,
    ):
        blobs = encoded(reidentified(ct_study(), patient_id="HMAC-1"))
        results = []
        for server in (one, two):
            study = server.upload_all(blobs)[0]["ParentStudy"]
            answer = anonymize(server, "studies", study, Project="multi-site")
            results.append(
                sorted(
                    (d.SOPInstanceUID, str(d.PatientID)) for d in stored_datasets(server, "studies", str(answer["ID"]))
                )
            )
            assert server.json("/anon-consistent/projects/multi-site")["Total"] > 0  # pairs are recorded
        assert results[0] == results[1]
        assert results[0][0][0].startswith("2.25.")
        assert "instances via loopback HTTP" in one.log_tail(400)
        assert "instances via the plugin SDK" in two.log_tail(400)


def test_hmac_without_secret_refuses_to_start(tmp_path: Path) -> None:
    server = OrthancServer(tmp_path, plugin_config={"UidStrategy": "hmac"})
    with pytest.raises(RuntimeError):
        server.start(timeout=15)
    assert 'no "Secret" is configured' in server.log_tail(200)


def test_loopback_transfer_works_with_authentication_enabled(tmp_path: Path) -> None:
    with OrthancServer(tmp_path, auth=("alice", "s3cret-pass")) as server:
        assert server.get("/system").status_code == 200
        study = server.upload_all(encoded(reidentified(ct_study())))[0]["ParentStudy"]
        answer = anonymize(server, "studies", study, Project="auth")
        assert answer["InstancesCount"] == 7
        log = server.log_tail(400)
        assert "instances via loopback HTTP" in log and "loopback HTTP unavailable" not in log
