"""Retain Safe Private in a real Orthanc: vendor blocks of GE, Siemens and Philips at non-default positions."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ImplicitVRLittleEndian

from tests.dicom_data import encode, read, reidentified
from tests.orthanc_server import OrthancServer

PATIENT_NAME, PATIENT_ID = "DOEVENDOR^JOHNATHAN", "VEND4711"
SITE_LIST = [{"Creator": "GEMS_ACQU_01", "Element": "0019,xxBB"}]  # a GE gradient vector component
# Kept with RetainSafePrivate (and the site list): tag -> (VR, value).
SAFE: dict[int, tuple[str, Any]] = {
    0x00190010: ("LO", "GEMS_ACQU_01"),
    0x0019109E: ("LO", "EPI2"),  # Internal Pulse Sequence Name
    0x001910BB: ("DS", "0.57735"),  # site list
    0x00190011: ("LO", "SIEMENS MR HEADER"),
    0x0019110C: ("IS", 1000),  # B Value
    0x0019110E: ("FD", [0.57735, 0.57735, 0.57735]),  # Diffusion Gradient Direction
    0x00430012: ("LO", "GEMS_PARM_01"),  # GE at a non-default block: 0043,12xx
    0x00431239: ("IS", [1000, 8, 0, 0]),  # 1st value is the b-value
    0x20010011: ("LO", "Philips Imaging DD 001"),  # 2001,11xx
    0x20011103: ("FL", 1000.0),  # Diffusion B-Factor
    0x20011104: ("CS", "I"),  # Diffusion Direction
    0x20050012: ("LO", "Philips MR Imaging DD 001"),  # 2005,12xx
    0x2005120D: ("FL", -12.5),  # Scale Intercept
    0x2005120E: ("FL", 1.75),  # Scale Slope
}


def vendor_mr(implicit: bool = False) -> Dataset:
    """An MR instance with GE, Siemens and Philips private blocks, safe and unsafe attributes mixed."""
    mr = reidentified([read("MR_small.dcm")], PATIENT_ID)[0]
    mr.PatientName = PATIENT_NAME
    for tag, (vr, value) in SAFE.items():
        mr.add_new(tag, vr, value)
    # Unsafe: free text and names in the same blocks, a CSA-like header, a vendor patient block.
    mr.add_new(0x001910A0, "LO", f"{PATIENT_ID} protocol")
    mr.add_new(0x00431260, "LO", PATIENT_NAME)
    mr.add_new(0x200111F0, "PN", PATIENT_NAME)
    mr.add_new(0x20051240, "LO", f"reason: {PATIENT_NAME} {PATIENT_ID}")
    mr.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    csa = b"SV10\x04\x03\x02\x01" + PATIENT_NAME.encode() + b"\x00" + PATIENT_ID.encode() + b"\x00"
    mr.add_new(0x00291010, "OB", csa)
    mr.add_new(0x00090011, "LO", "GEMS_IDEN_01")
    mr.add_new(0x00091117, "LT", f"{PATIENT_NAME} DWI")  # GE's private copy of the series description
    if implicit:
        mr.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return mr


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("safe-private"), plugin_config={"SafePrivateTags": SITE_LIST}) as server:
        yield server


def anonymize(orthanc: OrthancServer, dataset: Dataset, body: dict[str, object]) -> tuple[bytes, Dataset]:
    instance = orthanc.upload(encode(copy.deepcopy(dataset)))["ID"]
    response = orthanc.post(f"/anon-consistent/instances/{instance}", body)
    assert response.status_code == 200, response.text
    blob = orthanc.instance_bytes(response.json()["ID"])
    return blob, pydicom.dcmread(BytesIO(blob))


def private_tags(dataset: Dataset) -> set[int]:
    return {int(tag) for tag in dataset.keys() if tag.is_private}


def assert_no_identity(blob: bytes) -> None:
    for needle in (*PATIENT_NAME.split("^"), PATIENT_ID):
        assert needle.encode() not in blob, needle


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_safe_vendor_attributes_are_kept_with_their_creators_and_nothing_else(
    orthanc: OrthancServer, implicit: bool
) -> None:
    body: dict[str, object] = {"Project": "safe-private", "Options": ["RetainSafePrivate"]}
    source = vendor_mr(implicit)
    blob, stored = anonymize(orthanc, source, body)
    assert private_tags(stored) == set(SAFE)
    written = pydicom.dcmread(BytesIO(encode(source)))
    assert {tag: stored.get_item(tag).value for tag in SAFE} == {tag: written.get_item(tag).value for tag in SAFE}
    if not implicit:  # read back implicit, pydicom would apply its own private dictionary to some
        assert {tag: stored[tag].value for tag in SAFE} == {tag: value for tag, (_, value) in SAFE.items()}
    assert_no_identity(blob)


def test_without_the_option_no_private_attribute_survives(orthanc: OrthancServer) -> None:
    blob, stored = anonymize(orthanc, vendor_mr(), {"Project": "safe-private"})
    assert private_tags(stored) == set()
    assert_no_identity(blob)


def test_keep_by_creator_and_element_keeps_only_that_and_its_creator(orthanc: OrthancServer) -> None:
    keep = [{"Creator": "Philips MR Imaging DD 001", "Element": "2005,xx0E"}, "0019,110C"]
    blob, stored = anonymize(orthanc, vendor_mr(), {"Project": "safe-private", "Keep": keep})
    assert private_tags(stored) == {0x20050012, 0x2005120E, 0x00190011, 0x0019110C}
    assert stored[0x2005120E].value == 1.75
    assert_no_identity(blob)


def test_the_site_list_is_shown(orthanc: OrthancServer) -> None:
    assert orthanc.json("/anon-consistent")["SafePrivateTags"] == SITE_LIST


def test_a_private_keep_without_creator_is_a_400(orthanc: OrthancServer) -> None:
    instance = orthanc.upload(encode(vendor_mr()))["ID"]
    response = orthanc.post(f"/anon-consistent/instances/{instance}", {"Keep": ["2005,xx0E"]})
    assert response.status_code == 400
    answer = response.json()
    assert answer["HttpStatus"] == 400 and "does not say which Private Creator" in answer["Message"]
