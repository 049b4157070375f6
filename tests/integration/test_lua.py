"""The Lua samples of scripts/lua/ against a real Orthanc 1.10.1 with the plugin.

OnStableStudy must anonymize a fresh study exactly once (its anonymized copy
becomes stable in turn and must be skipped), and the /tools/execute-script
sample must anonymize the study it is given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import ct_study, encoded
from tests.orthanc_server import REPO, OrthancServer
from tests.orthanc_server import wait_until as shared_wait_until

AUTO_SCRIPT = REPO / "scripts" / "lua" / "auto_anonymize_on_stable_study.lua"
EXECUTE_SCRIPT = REPO / "scripts" / "lua" / "anonymize_study.lua"
PLACEHOLDER = "REPLACE_WITH_ORTHANC_STUDY_ID"
STABLE_AGE = 1  # seconds, set by OrthancServer
TIMEOUT = 60.0


def wait_until(condition: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    return shared_wait_until(condition, timeout, what, poll=0.2)


def modality_fresh_ct_study() -> list[Dataset]:
    """ct_study() as a modality would send it.

    pydicom's test files were de-identified by dcanon and say so
    (PatientIdentityRemoved = YES), which the OnStableStudy guard honours.
    """
    datasets = ct_study()
    for dataset in datasets:
        for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
            if keyword in dataset:
                delattr(dataset, keyword)
    return datasets


def start(tmp_path: Path, **config: Any) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path, **config) as server:
        yield server


@pytest.fixture
def auto_server(tmp_path: Path) -> Iterator[OrthancServer]:
    yield from start(tmp_path, LuaScripts=[str(AUTO_SCRIPT)])


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """OnStableStudy installed, /tools/execute-script left disabled (Orthanc's default)."""
    yield from start(tmp_path_factory.mktemp("guarded"), LuaScripts=[str(AUTO_SCRIPT)])


@pytest.fixture
def script_server(tmp_path: Path) -> Iterator[OrthancServer]:
    yield from start(tmp_path, ExecuteLuaEnabled=True)


def lua_log(server: OrthancServer) -> list[str]:
    return [line for line in server.log_path.read_text(errors="replace").splitlines() if "Lua says: " in line]


def identity_removed(server: OrthancServer, instance_id: str) -> str | None:
    value = server.json(f"/instances/{instance_id}/simplified-tags").get("PatientIdentityRemoved")
    return None if value is None else str(value).strip()


def test_on_stable_study_anonymizes_a_new_study_exactly_once(auto_server: OrthancServer) -> None:
    server = auto_server
    source = server.upload_all(encoded(modality_fresh_ct_study()))[0]["ParentStudy"]
    assert identity_removed(server, server.study_instances(source)[0]) is None

    studies = wait_until(lambda: (s := server.json("/studies")) and len(s) == 2 and s, what="the anonymized study")
    (anonymized,) = set(studies) - {source}

    instances = server.study_instances(anonymized)
    assert len(instances) == 7
    assert all(identity_removed(server, i) == "YES" for i in instances)
    new_uid = server.json(f"/studies/{anonymized}")["MainDicomTags"]["StudyInstanceUID"]
    old_uid = server.json(f"/studies/{source}")["MainDicomTags"]["StudyInstanceUID"]
    assert new_uid != old_uid
    assert len(server.study_instances(source)) == 7, "KeepSource: the source study stays"

    # The anonymized copy becomes stable in turn: the guard must skip it...
    wait_until(
        lambda: any(f"study {anonymized} is already de-identified" in line for line in lua_log(server)),
        what="OnStableStudy to skip the anonymized study",
    )
    # ... and nothing else may follow, however long we wait.
    time.sleep(4 * STABLE_AGE)
    assert sorted(server.json("/studies")) == sorted([source, anonymized])
    log = lua_log(server)
    assert sum(f"anonymizing stable study {source}" in line for line in log) == 1
    assert not any("anonymizing stable study " + anonymized in line for line in log)
    assert any(f"study {source} -> anonymized study {anonymized} (7 instances, 0 failed)" in line for line in log)
    assert "project auto" in "\n".join(log)
    # The log is not de-identified: no value of the source may reach it.
    source_tags = server.json(f"/studies/{source}")
    originals = [old_uid, source_tags["PatientMainDicomTags"]["PatientID"]]
    whole_log = server.log_path.read_text(errors="replace")
    assert not [value for value in originals if value and value in whole_log]


def test_on_stable_study_skips_a_study_already_marked_deidentified(guarded_server: OrthancServer) -> None:
    server = guarded_server
    source = server.upload_all(encoded(ct_study()))[0]["ParentStudy"]  # dcanon output: PatientIdentityRemoved YES
    wait_until(
        lambda: any(f"study {source} is already de-identified" in line for line in lua_log(server)),
        what="OnStableStudy to skip the study",
    )
    time.sleep(2 * STABLE_AGE)
    assert server.json("/studies") == [source]


def test_execute_script_is_refused_without_execute_lua_enabled(guarded_server: OrthancServer) -> None:
    response = guarded_server.post("/tools/execute-script", "print('hello')")
    assert response.status_code == 403


def test_execute_script_sample_anonymizes_the_given_study(script_server: OrthancServer) -> None:
    server = script_server
    source = server.upload_all(encoded(ct_study()))[0]["ParentStudy"]
    template = EXECUTE_SCRIPT.read_text()
    assert f"local STUDY_ID = '{PLACEHOLDER}'" in template

    # What the documented `sed "s/REPLACE_WITH_ORTHANC_STUDY_ID/$STUDY/"` does.
    response = server.post("/tools/execute-script", template.replace(PLACEHOLDER, source))
    assert response.status_code == 200, response.text
    output = response.text
    answer = json.loads(output)  # the script prints the plugin's JSON answer and nothing else
    new_study = answer["ID"]
    assert new_study in output
    assert new_study != source
    assert answer["Path"] == f"/studies/{new_study}"
    assert answer["IsAnonymization"] is True
    assert answer["InstancesCount"] == 7
    assert answer["Project"] == "default"
    assert server.get(f"/studies/{new_study}").status_code == 200
    assert len(server.study_instances(new_study)) == 7
    assert sorted(server.json("/studies")) == sorted([source, new_study])

    # An unknown study makes the script fail, so the HTTP call fails too.
    failed = server.post("/tools/execute-script", template.replace(PLACEHOLDER, "no-such-study"))
    assert failed.status_code == 500
    assert "anonymization of study no-such-study failed" in failed.text
