"""The vendor MR builder: private blocks where real files put them, described as Table E.3.10-1 says."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from anon_consistent.profile.safe_private import load_safe_private
from tests.dciodvfy import DCIODVFY, iod_errors
from tests.dicom_data import encode, read
from tests.vendor_private import csa2, vendor_mr_instance


def parse_csa2(blob: bytes) -> dict[str, list[str]]:
    """Read back a CSA2 header the way nibabel's csareader does."""
    assert blob[:8] == b"SV10\x04\x03\x02\x01"
    count, check = struct.unpack_from("<II", blob, 8)
    assert check == 77
    position, entries = 16, {}
    for _ in range(count):
        name, _vm, _vr, _syngodt, items, _check = struct.unpack_from("<64si4sIII", blob, position)
        position += 84
        values = []
        for _ in range(items):
            length = struct.unpack_from("<4I", blob, position)[1]
            position += 16
            values.append(blob[position : position + length].rstrip(b"\x00").decode())
            position += length + (-length % 4)
        entries[name.rstrip(b"\x00").decode()] = values
    assert position == len(blob)
    return entries


def test_safe_flags_are_what_table_e3_10_1_says() -> None:
    table = load_safe_private()
    mr = vendor_mr_instance()
    for element in mr.elements:
        listed = table.lookup_tag(element.creator, element.tag) is not None
        assert listed == element.safe, (hex(element.tag), element.creator)
        assert mr.dataset[element.creator_tag].value == element.creator
        assert mr.dataset[element.tag].VR == element.vr
    assert {e.creator for e in mr.safe} == {
        "GEMS_ACQU_01",
        "GEMS_PARM_01",
        "SIEMENS MR HEADER",
        "Philips Imaging DD 001",
        "Philips MR Imaging DD 001",
    }


def test_research_attributes_are_in_blocks_at_non_default_positions() -> None:
    mr = vendor_mr_instance()
    data = mr.dataset
    # GE b-value: GEMS_PARM_01 reserved block 12 of group 0043
    assert data[0x00430012].value == "GEMS_PARM_01" and data[0x00431239].value == [1000, 8, 0, 0]
    # Siemens diffusion: block 11 of group 0019, next to GE's GEMS_ACQU_01 in block 10
    assert data[0x00190011].value == "SIEMENS MR HEADER" and data[0x00190010].value == "GEMS_ACQU_01"
    assert (data[0x0019110C].value, data[0x0019110E].value) == ("1000", [0.57735, 0.57735, -0.57735])
    # Philips scaling: DD 001 in block 11 of group 2005; DD 002 holds the default block with other values
    assert data[0x20050011].value == "Philips MR Imaging DD 001"
    assert data[0x20050010].value == "Philips MR Imaging DD 002"
    assert (data[0x2005110E].value, data[0x2005110D].value) == (1.25, -2.0)
    # Philips diffusion: Philips Imaging DD 001 at the default block of group 2001
    assert data[0x20010010].value == "Philips Imaging DD 001"
    assert (data[0x20011003].value, data[0x20011004].value) == (1000.0, "I")
    assert mr.kept_creator_tags == {0x00190010, 0x00190011, 0x00430012, 0x20010010, 0x20050011}
    assert mr.removed_creator_tags == {0x00290010, 0x00430010, 0x20050010}


def test_elements_at_the_default_positions_are_decoys_that_are_not_safe() -> None:
    by_tag = {e.tag: e for e in vendor_mr_instance().elements}
    for tag in (0x00431039, 0x2005100D, 0x2005100E):
        assert not by_tag[tag].safe
    # Same low bytes as the safe ones, under another creator.
    assert by_tag[0x00431039].tag & 0xFF == by_tag[0x00431239].tag & 0xFF
    assert by_tag[0x2005100E].tag & 0xFF == by_tag[0x2005110E].tag & 0xFF


def test_unsafe_elements_carry_the_identifying_values() -> None:
    mr = vendor_mr_instance("ROE^JANE^Q", "P-4711", "BLACK^TOM")
    assert mr.identifying == ("ROE^JANE^Q", "ROE", "JANE", "Q", "P-4711", "BLACK^TOM", "BLACK", "TOM")
    assert (str(mr.dataset.PatientName), mr.dataset.PatientID) == ("ROE^JANE^Q", "P-4711")
    assert str(mr.dataset.ReferringPhysicianName) == "BLACK^TOM"
    unsafe = {e.tag: mr.dataset[e.tag].value for e in mr.unsafe}
    assert unsafe[0x00431039] == "ROE^JANE^Q"
    assert unsafe[0x00431262] == "EP-4711"
    assert unsafe[0x200110C8] == "BLACK^TOM DWI"
    assert "ROE JANE Q (P-4711)" in unsafe[0x00431271] and "BLACK TOM" in unsafe[0x00431271]
    phoenix = parse_csa2(unsafe[0x00291020])["MrPhoenixProtocol"][0]
    assert 'tPatientName = "ROE^JANE^Q"' in phoenix and 'tPatientID = "P-4711"' in phoenix
    assert parse_csa2(unsafe[0x00291010]) == {"B_value": ["1000"], "DiffusionGradientDirection": ["0.57735"] * 3}
    safe_values = " ".join(str(mr.dataset[e.tag].value) for e in mr.safe)
    assert not any(value in safe_values for value in ("ROE", "JANE", "P-4711", "BLACK"))


def test_csa2_items_are_padded_to_four_bytes() -> None:
    blob = csa2([("A", "LO", ["x", "yyyy"])])
    assert len(blob) % 4 == 0
    assert parse_csa2(blob) == {"A": ["x", "yyyy"]}


def test_every_call_gives_new_uids() -> None:
    assert vendor_mr_instance().dataset.SOPInstanceUID != vendor_mr_instance().dataset.SOPInstanceUID


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_dciodvfy_finds_no_error_the_source_does_not_have(tmp_path: Path) -> None:
    (tmp_path / "source.dcm").write_bytes(encode(read("MR_small.dcm")))
    (tmp_path / "vendor.dcm").write_bytes(encode(vendor_mr_instance().dataset))
    assert iod_errors(tmp_path / "vendor.dcm") <= iod_errors(tmp_path / "source.dcm")
