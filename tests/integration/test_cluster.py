"""Two Orthanc 1.10.1 nodes on one PostgreSQL behave as one anonymizer (issue 12).

Both nodes keep their index and files in PostgreSQL (the orthanc-postgresql
plugins) and our mapping and job records in the same database. Everything is
real: PostgreSQL started by the test, two Orthanc processes, HTTP like a user.
"""

from __future__ import annotations

import copy
import json
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from anon_consistent.store.database import lock_key
from tests.cluster import cluster_node
from tests.dicom_data import ct_study, encoded
from tests.orthanc_server import REPO, OrthancServer, wait_until
from tests.postgres_server import PostgresServer

# A job whose node died is reported once its heartbeat is this old (store/jobs.py STALE_AFTER_SECONDS).
STALE_AFTER = 10.0


def node(workdir: Path, postgres: PostgresServer, database: str, name: str, **extra: Any) -> OrthancServer:
    return cluster_node(workdir, postgres, database, name, {"AllowMappingExport": True}, **extra)


@pytest.fixture(scope="module")
def cluster(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[OrthancServer]]:
    postgres.create_database("cluster")
    workdir = tmp_path_factory.mktemp("cluster")
    nodes = [node(workdir, postgres, "cluster", "node-a"), node(workdir, postgres, "cluster", "node-b")]
    try:
        for server in nodes:
            server.start()
        yield nodes
    finally:
        for server in nodes:
            server.stop()


def three_series_study(instances_per_series: int = 4) -> list[list[Dataset]]:
    """One patient, one study, three series on one frame of reference; fresh UIDs on every call."""
    template = ct_study()[0]
    study, frame, patient = generate_uid(), generate_uid(), f"CLUSTER-{generate_uid()[-8:]}"
    series = []
    for number in range(3):
        series_uid = generate_uid()
        members = []
        for index in range(instances_per_series):
            dataset = copy.deepcopy(template)
            dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, series_uid
            dataset.FrameOfReferenceUID, dataset.SOPInstanceUID = frame, generate_uid()
            dataset.PatientID, dataset.PatientName = patient, f"Cluster^{patient}"
            dataset.SeriesNumber, dataset.InstanceNumber = number + 1, index + 1
            members.append(dataset)
        series.append(members)
    return series


def upload(server: OrthancServer, datasets: list[Dataset]) -> tuple[str, str]:
    """Upload through one node; returns (study, series) Orthanc IDs."""
    answers = server.upload_all(encoded(datasets))
    return answers[0]["ParentStudy"], answers[0]["ParentSeries"]


def anonymized_tags(server: OrthancServer, study_ids: set[str]) -> list[dict[str, Any]]:
    tags = []
    for study in study_ids:
        for instance in server.json(f"/studies/{study}/instances"):
            tags.append(server.json(f"/instances/{instance['ID']}/simplified-tags"))
    return tags


def test_a_study_split_across_nodes_becomes_one_study_one_patient_one_frame(cluster: list[OrthancServer]) -> None:
    a, b = cluster
    series = three_series_study()
    study, s1 = upload(a, series[0])
    _, s2 = upload(b, series[1])
    _, s3 = upload(a, series[2])
    assert b.json(f"/studies/{study}")["Series"] and len(b.json(f"/studies/{study}/instances")) == 12

    body = {"Project": "split", "KeepSource": True}
    results = [
        a.post(f"/anon-consistent/series/{s1}", body),
        a.post(f"/anon-consistent/series/{s2}", body),
        b.post(f"/anon-consistent/series/{s3}", body),
    ]
    assert [r.status_code for r in results] == [200, 200, 200], [r.text for r in results]
    new_studies = {b.json(f"/series/{r.json()['ID']}")["ParentStudy"] for r in results}
    new_patients = {r.json()["PatientID"] for r in results}
    assert len(new_studies) == 1 and len(new_patients) == 1
    tags = anonymized_tags(b, new_studies)
    assert len(tags) == 12
    assert len({t["FrameOfReferenceUID"] for t in tags}) == 1
    assert len({t["SeriesInstanceUID"] for t in tags}) == 3
    assert len({t["PatientID"] for t in tags}) == 1
    # The mapping is one, read from either node.
    exports = [server.json("/anon-consistent/projects/split/mapping")["Mapping"] for server in (a, b)]
    assert exports[0] == exports[1]
    originals = {row["Original"] for row in exports[0] if row["Kind"] == "UID"}
    sources = [d for s in series for d in s]
    assert {d.SOPInstanceUID for d in sources} | {d.SeriesInstanceUID for d in sources} <= originals
    assert {sources[0].StudyInstanceUID, sources[0].FrameOfReferenceUID} <= originals
    original_uid = series[0][0].SOPInstanceUID
    found = b.json(f"/anon-consistent/projects/split/lookup?value={original_uid}")["Matches"]
    assert [m["Original"] for m in found] == [original_uid]


def test_concurrent_calls_on_both_nodes_give_one_study_without_duplicates(cluster: list[OrthancServer]) -> None:
    a, b = cluster
    series = three_series_study(instances_per_series=10)
    study, _ = upload(a, [d for s in series for d in s])
    body = {"Project": "race", "KeepSource": True}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda server: server.post(f"/anon-consistent/studies/{study}", body), [a, b, a, b]))
    assert [r.status_code for r in answers] == [200] * 4, [r.text[:300] for r in answers]
    new_studies = {r.json()["ID"] for r in answers}
    assert len(new_studies) == 1
    instances = a.json(f"/studies/{new_studies.pop()}/instances")
    assert len(instances) == 30
    sops = [a.json(f"/instances/{i['ID']}/simplified-tags")["SOPInstanceUID"] for i in instances]
    assert len(set(sops)) == 30


def answers_200(server: OrthancServer, path: str) -> bool:
    return server.get(path).status_code == 200


def hold_source_instance(postgres: PostgresServer, project: str, instance_id: str) -> psycopg.Connection[Any]:
    """Take the cross-node lock of one source instance, as a call on a third node would."""
    connection = psycopg.connect(postgres.uri("cluster"), autocommit=True)
    connection.execute("SELECT pg_advisory_lock(%s)", (lock_key(project, instance_id),))
    return connection


def test_a_job_on_a_waits_for_another_nodes_call_and_is_seen_and_cancelled_from_b(
    cluster: list[OrthancServer], postgres: PostgresServer
) -> None:
    a, b = cluster
    series = three_series_study()
    study, _ = upload(a, [d for s in series for d in s])
    held = a.json(f"/studies/{study}/instances")[5]["ID"]
    holder = hold_source_instance(postgres, "cancel", held)
    try:
        job = a.post(f"/anon-consistent/studies/{study}", {"Project": "cancel", "Asynchronous": True}).json()
        seen = wait_until(lambda: b.json(f"/anon-consistent/jobs/{job['ID']}"), 10, "B to see A's job")
        assert seen["Node"] == "node-a" and seen["State"] in ("Pending", "Running")
        assert job["ID"] in [j["ID"] for j in b.json("/anon-consistent/jobs")]
        threading.Event().wait(1.5)  # the job is waiting for the instance another node holds
        assert b.json(f"/anon-consistent/jobs/{job['ID']}")["State"] == "Running"
        assert b.post(f"/anon-consistent/jobs/{job['ID']}/cancel").status_code == 200
        final = wait_until(
            lambda: (j := b.json(f"/anon-consistent/jobs/{job['ID']}"))["State"] == "Cancelled" and j, 10, "cancel"
        )
        assert "nothing stored" in final["ErrorDescription"]
        assert a.json(f"/anon-consistent/jobs/{job['ID']}")["State"] == "Cancelled"
    finally:
        holder.close()
    assert b.get("/anon-consistent/jobs/no-such-job").status_code == 404


def test_kill_9_of_a_node_during_a_job_is_reported_by_the_other_and_a_rerun_completes(
    cluster: list[OrthancServer], postgres: PostgresServer
) -> None:
    a, b = cluster
    series = three_series_study()
    study, s1 = upload(a, [d for s in series for d in s])
    partial = a.post(f"/anon-consistent/series/{s1}", {"Project": "killed"}).json()  # series 1 done already
    partial_study = a.json(f"/series/{partial['ID']}")["ParentStudy"]
    held = next(i["ID"] for i in a.json(f"/studies/{study}/instances") if i["ParentSeries"] != s1)
    holder = hold_source_instance(postgres, "killed", held)
    try:
        job = a.post(f"/anon-consistent/studies/{study}", {"Project": "killed", "Asynchronous": True}).json()
        wait_until(lambda: b.json(f"/anon-consistent/jobs/{job['ID']}")["State"] == "Running", 10, "the job to run")
        assert a.process is not None
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(10)
        a.process = None
        report = wait_until(
            lambda: (j := b.json(f"/anon-consistent/jobs/{job['ID']}"))["State"] == "Failure" and j,
            STALE_AFTER + 10,
            "B to report the dead node's job",
        )
        assert "Interrupted" in report["ErrorDescription"]
        assert f"POST /anon-consistent/studies/{study}" in report["ErrorDescription"]
    finally:
        holder.close()
        if a.process is None:
            a.start()
    rerun = b.post(f"/anon-consistent/studies/{study}", {"Project": "killed"})
    assert rerun.status_code == 200, rerun.text
    assert rerun.json()["ID"] == partial_study  # the same anonymized study, now complete
    assert len(b.json(f"/studies/{rerun.json()['ID']}/instances")) == 12
    assert a.json(f"/anon-consistent/jobs/{job['ID']}")["State"] == "Failure"  # A, restarted, agrees


def test_a_postgresql_restart_between_calls(cluster: list[OrthancServer], postgres: PostgresServer) -> None:
    a, b = cluster
    series = three_series_study()
    study, s1 = upload(a, [d for s in series for d in s])
    first = b.post(f"/anon-consistent/series/{s1}", {"Project": "restart"})
    assert first.status_code == 200, first.text
    postgres.restart()
    # Orthanc's own index plugin answers its first request after the restart with 503 and then
    # reconnects: wait for that, so that what follows tests our store, whose pooled connections
    # are all dead now.
    for server in (a, b):
        reconnected = partial(answers_200, server, "/studies")
        wait_until(reconnected, 30, "Orthanc to reconnect")
    second = b.post(f"/anon-consistent/studies/{study}", {"Project": "restart"})
    assert second.status_code == 200, second.text
    assert second.json()["ID"] == a.json(f"/series/{first.json()['ID']}")["ParentStudy"]
    assert len(a.json(f"/studies/{second.json()['ID']}/instances")) == 12
    mapping = a.json("/anon-consistent/projects/restart/mapping")["Mapping"]
    assert len([row for row in mapping if row["Kind"] == "PatientID"]) == 1


def test_the_lua_sample_on_both_nodes_completes_a_study_whose_parts_reach_each_node(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """OnStableStudy fires on each node that received part of the study, the first time before the rest arrived."""
    postgres.create_database("lua")
    script = str(REPO / "scripts" / "lua" / "auto_anonymize_on_stable_study.lua")
    a, b = (node(tmp_path, postgres, "lua", name, LuaScripts=[script]) for name in ("lua-a", "lua-b"))
    with a, b:
        series = three_series_study()
        for dataset in (d for s in series for d in s):
            del dataset.PatientIdentityRemoved  # as a modality sends it (the pydicom file says YES)
        study, _ = upload(a, series[0])
        wait_until(lambda: len(anonymized_studies(a, study)) == 1, 30, "node A to anonymize the part it received")
        first = anonymized_studies(a, study)
        assert len(a.json(f"/studies/{first[0]}/instances")) == 4
        upload(b, series[1] + series[2])
        wait_until(
            lambda: len(b.json(f"/studies/{first[0]}/instances")) == 12, 30, "node B to complete the anonymized study"
        )
        threading.Event().wait(3)  # both nodes' stable events for the anonymized study have come and gone
        assert anonymized_studies(b, study) == first  # one study, not one per node or per run
        sops = [
            b.json(f"/instances/{i['ID']}/simplified-tags")["SOPInstanceUID"]
            for i in b.json(f"/studies/{first[0]}/instances")
        ]
        assert len(set(sops)) == 12
        assert len(b.json("/studies")) == 2  # the source and its one anonymized copy


def anonymized_studies(server: OrthancServer, source_study: str) -> list[str]:
    """The anonymized studies made from ``source_study`` (their provenance names it)."""
    found = []
    for study in server.json("/studies"):
        if study == source_study:
            continue
        link = server.get(f"/anon-consistent/studies/{study}/provenance")
        if link.status_code == 200 and link.json().get("AnonymizedFrom") == source_study:
            found.append(study)
    return found


def test_the_mapping_database_password_never_reaches_the_log_nor_an_answer(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Trust authentication ignores the password, so it can be a marker: it must appear nowhere."""
    postgres.create_database("secret")
    password = "Pw-Marker-7f3a"
    uri = postgres.uri("secret").replace("postgres@", f"postgres:{password}@")
    with OrthancServer(tmp_path / "one", plugin_config={"MappingDatabase": uri}) as server:
        study = ""
        for blob in encoded(three_series_study()[0]):
            study = server.upload(blob)["ParentStudy"]
        assert server.post(f"/anon-consistent/studies/{study}", {"Project": "p"}).status_code == 200
        postgres.stop()
        try:
            down = server.post(f"/anon-consistent/studies/{study}", {"Project": "p2"})
            job = server.post(f"/anon-consistent/studies/{study}", {"Project": "p3", "Asynchronous": True})
        finally:
            postgres.start()
        assert down.status_code in (500, 503) and password not in down.text
        assert "is unavailable" in down.text and f"postgresql://postgres@127.0.0.1:{postgres.port}/secret" in down.text
        assert job.status_code == 503 and password not in job.text  # the job cannot even be recorded
        answer = server.json("/anon-consistent")
        assert password not in json.dumps(answer)
    log = server.log_path.read_text()
    assert f"mapping database postgresql://postgres@127.0.0.1:{postgres.port}/secret" in log
    assert password not in log
