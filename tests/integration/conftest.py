from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from io import BytesIO

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import encoded, reidentified
from tests.orthanc_server import OrthancServer


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """One Orthanc with the plugin for the read-mostly tests (mapping export disabled, the default)."""
    with OrthancServer(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture
def upload(orthanc: OrthancServer) -> Callable[[list[Dataset]], str]:
    """Upload datasets under fresh UIDs (so tests never share a study); return the study's Orthanc ID."""

    def do_upload(datasets: list[Dataset]) -> str:
        answers = orthanc.upload_all(encoded(reidentified(datasets)))
        studies = {a["ParentStudy"] for a in answers}
        assert len(studies) == 1
        return studies.pop()

    return do_upload


def stored_datasets(server: OrthancServer, level: str, resource_id: str) -> list[Dataset]:
    instances = server.json(f"/{level}/{resource_id}/instances")
    return [pydicom.dcmread(BytesIO(server.instance_bytes(i["ID"]))) for i in instances]


def stored_bytes(server: OrthancServer, level: str, resource_id: str) -> list[bytes]:
    return [server.instance_bytes(i["ID"]) for i in server.json(f"/{level}/{resource_id}/instances")]


def fingerprint(server: OrthancServer, study_id: str) -> dict[str, str]:
    """MD5 of every stored file of a study, to prove it was not modified."""
    return {
        i["ID"]: hashlib.md5(server.instance_bytes(i["ID"])).hexdigest()
        for i in server.json(f"/studies/{study_id}/instances")
    }
