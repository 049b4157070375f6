"""One script, run against native /anonymize and against ours with only the URL changed.

The script reads what native answers (keys, types, paths it follows); ours
must give it all of that, plus its own keys. The differences that remain
are listed in the README ("Differences from native /anonymize").
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import pydicom
import pytest

from tests.dicom_data import ct_study, encoded, reidentified
from tests.orthanc_server import OrthancServer, wait_until

NATIVE = ""
OURS = "/anon-consistent"


def script(orthanc: OrthancServer, prefix: str) -> dict[str, Any]:
    """What a user's script for native anonymization does, with ``prefix`` in front of each URL."""
    stored = orthanc.upload_all(encoded(reidentified(ct_study()[:3])))
    study, series, instance = stored[0]["ParentStudy"], stored[0]["ParentSeries"], stored[0]["ID"]
    body = {
        "Replace": {"PatientName": "Jodogne", "0010-0020": "SCRIPT-ID"},
        "Keep": ["StudyDescription"],
        "Force": True,
    }
    answers: dict[str, Any] = {}
    for level, resource in (("studies", study), ("series", series)):
        answer = orthanc.post(f"{prefix}/{level}/{resource}/anonymize", body)
        assert answer.status_code == 200, answer.text
        answers[level] = answer.json()
        followed = orthanc.json(answers[level]["Path"])  # the script follows the answer's Path
        assert followed["ID"] == answers[level]["ID"]
    file = orthanc.post(f"{prefix}/instances/{instance}/anonymize", body)
    assert file.status_code == 200 and file.headers["Content-Type"] == "application/dicom"
    dataset = pydicom.dcmread(BytesIO(file.content))
    answers["file"] = {"PatientName": str(dataset.PatientName), "PatientID": dataset.PatientID}
    bulk = orthanc.post(f"{prefix}/tools/bulk-anonymize", {"Resources": [instance], **body})
    assert bulk.status_code == 200, bulk.text
    answers["bulk"] = bulk.json()
    job = orthanc.post(f"{prefix}/studies/{study}/anonymize", {**body, "Asynchronous": True}).json()
    finished: Callable[[], Any] = lambda: (j := orthanc.json(job["Path"]))["State"] in ("Success", "Failure") and j  # noqa: E731
    answers["job"] = wait_until(finished, what="the anonymization job")
    return answers


@pytest.fixture(scope="module")
def both(orthanc: OrthancServer) -> tuple[dict[str, Any], dict[str, Any]]:
    return script(orthanc, NATIVE), script(orthanc, OURS)


def test_every_key_a_native_answer_has_is_in_ours_with_the_same_type(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    native, ours = both
    for call in ("studies", "series", "bulk"):
        for key, value in native[call].items():
            assert key in ours[call], f"{call}: {key} missing"
            assert type(ours[call][key]) is type(value), f"{call}: {key}"
    assert ours["studies"]["Description"] == native["studies"]["Description"] == "REST API"
    assert [r["Type"] for r in ours["bulk"]["Resources"]] == [r["Type"] for r in native["bulk"]["Resources"]]


def test_the_values_the_script_set_are_in_both_results(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    native, ours = both
    assert native["file"] == ours["file"] == {"PatientName": "Jodogne", "PatientID": "SCRIPT-ID"}


def test_the_job_ends_the_same_and_its_content_has_natives_keys(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    native, ours = both
    assert native["job"]["State"] == ours["job"]["State"] == "Success"
    for key in ("ID", "Path", "Type", "PatientID", "Description", "InstancesCount", "FailedInstancesCount"):
        assert key in native["job"]["Content"] and key in ours["job"]["Content"]
