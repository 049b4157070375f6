"""What a real Orthanc stores after POST /anon-consistent/instances/{id}: a valid IOD, no revealing private date."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
import pytest

from tests.dciodvfy import DCIODVFY, new_iod_errors
from tests.dicom_data import encode, read, reidentified, with_references_and_overlay
from tests.orthanc_server import OrthancServer


def anonymize_instance(orthanc: OrthancServer, blob: bytes, body: dict[str, object]) -> bytes:
    instance = orthanc.upload(blob)["ID"]
    response = orthanc.post(f"/anon-consistent/instances/{instance}", body)
    assert response.status_code == 200, response.text
    return orthanc.instance_bytes(response.json()["ID"])


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_stored_output_has_no_new_iod_error(orthanc: OrthancServer, tmp_path: Path) -> None:
    before = encode(reidentified([with_references_and_overlay(read("CT_small.dcm"))])[0])
    after = anonymize_instance(orthanc, before, {"Project": "iod-validity"})
    assert new_iod_errors(before, after, tmp_path) == set()
    stored = pydicom.dcmread(BytesIO(after))
    assert "ReferencedStudySequence" not in stored and not [t for t in stored.keys() if t >> 24 == 0x60]


def test_a_private_date_in_is_moves_with_the_same_date_in_lo(orthanc: OrthancServer) -> None:
    ds = reidentified([read("CT_small.dcm")])[0]
    ds.StudyDate = "20230101"
    ds.add_new(0x00290010, "LO", "ACME")
    ds.add_new(0x00291001, "IS", "20230101")
    ds.add_new(0x00291002, "LO", "20230101")
    body = {"Project": "private-dates", "KeepPrivateTags": True, "ShiftDates": True}
    after = anonymize_instance(orthanc, encode(ds), body)
    assert b"20230101" not in after
    stored = pydicom.dcmread(BytesIO(after))
    assert str(stored[0x00291001].value) == stored[0x00291002].value == stored.StudyDate != "20230101"


def test_a_replace_value_the_character_set_cannot_hold_fails_the_instance(orthanc: OrthancServer) -> None:
    ds = reidentified([read("CT_small.dcm")])[0]
    assert ds.SpecificCharacterSet == "ISO_IR 100"
    instance = orthanc.upload(encode(ds))["ID"]
    instances = orthanc.json("/instances")

    body = {"Project": "charset", "Replace": {"PatientName": "山田^太郎"}}
    response = orthanc.post(f"/anon-consistent/instances/{instance}", body)
    assert response.status_code == 500, response.text
    assert response.json()["Details"]["FailedInstances"] == [
        {
            "ID": instance,
            "Error": "PatientName (0010,0010) Replace value has characters that the instance's character set "
            "cannot hold (SpecificCharacterSet (0008,0005): ISO_IR 100)",
        }
    ]
    assert orthanc.json("/instances") == instances  # no "??^??" copy

    body["Replace"] = {"PatientName": "Müller^Jürgen"}
    latin = orthanc.post(f"/anon-consistent/instances/{instance}", body)
    assert latin.status_code == 200, latin.text
    assert orthanc.json(f"/instances/{latin.json()['ID']}/simplified-tags")["PatientName"] == "Müller^Jürgen"
