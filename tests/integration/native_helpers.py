"""Shared by the tests that re-create Orthanc's own anonymization tests on our route."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from tests.dicom_data import encode, reidentified
from tests.orthanc_server import OrthancServer

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
GSPS_STORAGE = "1.2.840.10008.5.1.4.1.1.11.1"


def upload(orthanc: OrthancServer, datasets: list[Dataset]) -> list[dict[str, Any]]:
    """Store ``datasets`` under fresh UIDs, so that no two tests share a resource."""
    return orthanc.upload_all([encode(d) for d in reidentified(datasets)])


def anonymize(orthanc: OrthancServer, level: str, resource: str, body: dict[str, Any]) -> dict[str, Any]:
    response = orthanc.post(f"/anon-consistent/{level}/{resource}", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["FailedInstances"] == []
    return answer


def datasets_of(orthanc: OrthancServer, level: str, resource: str) -> list[Dataset]:
    instances = orthanc.json(f"/{level}/{resource}/instances")
    return [pydicom.dcmread(BytesIO(orthanc.instance_bytes(i["ID"]))) for i in instances]


def instance_count(orthanc: OrthancServer) -> int:
    return int(orthanc.json("/statistics")["CountInstances"])


def by_modality(datasets: list[Dataset]) -> dict[str, Dataset]:
    return {str(d.Modality): d for d in datasets}
