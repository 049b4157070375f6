"""Private attributes kept by creator and element (Retain Safe Private, site list, Keep), per dataset."""

from __future__ import annotations

import copy
import json
import struct
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

from anon_consistent.options import AnonymizationOptions, OptionsError, parse_options
from anon_consistent.private_blocks import (
    PrivateAttribute,
    PrivateFate,
    PrivateSelection,
    parse_private_attribute,
    parse_private_element,
)
from anon_consistent.profile.safe_private import SafePrivateAttribute, load_safe_private
from tests.dicom_data import encode, read
from tests.engine import OfflineEngine

RETAIN = {"Options": ["RetainSafePrivate"]}


def reserve(dataset: Dataset, group: int, block: int, creator: str, elements: dict[int, tuple[str, Any]]) -> None:
    """Reserve block ``block`` of ``group`` for ``creator`` and add its elements by low byte."""
    dataset.add_new(group << 16 | block, "LO", creator)
    for low_byte, (vr, value) in elements.items():
        dataset.add_new(group << 16 | block << 8 | low_byte, vr, value)


def anonymized(dataset: Dataset, body: dict[str, Any], implicit: bool = False) -> Dataset:
    if implicit:
        dataset.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return OfflineEngine().run([encode(dataset)], parse_options(json.dumps(body)))[0]


def raw_value(dataset: Dataset, tag: int) -> bytes:
    """The value as stored (reading would convert it with pydicom's private dictionary)."""
    value = dataset.get_item(tag).value
    assert isinstance(value, bytes)
    return value


def private_tags(dataset: Dataset) -> set[int]:
    return {int(tag) for tag in dataset.keys() if tag.is_private}


@pytest.fixture
def mr() -> Dataset:
    return read("MR_small.dcm")


def test_safe_attributes_are_kept_with_their_creators_at_default_and_moved_blocks(mr: Dataset) -> None:
    reserve(mr, 0x0043, 0x10, "GEMS_PARM_01", {0x39: ("IS", ["1000", "8", "0", "0"]), 0x40: ("LO", "DOE^JOHN")})
    # Philips at (2005,0011): its elements sit at 2005,11xx.
    reserve(mr, 0x2005, 0x11, "Philips MR Imaging DD 001", {0x0E: ("FL", 2.5), 0x0D: ("FL", -1.0), 0x10: ("PN", "X")})
    out = anonymized(mr, RETAIN)
    assert private_tags(out) == {0x00430010, 0x00431039, 0x20050011, 0x2005110E, 0x2005110D}
    assert out[0x00431039].value == [1000, 8, 0, 0]
    assert out[0x2005110E].value == 2.5 and out[0x2005110D].value == -1.0
    assert out[0x20050011].value == "Philips MR Imaging DD 001"


def test_without_the_option_every_private_attribute_is_removed(mr: Dataset) -> None:
    reserve(mr, 0x0043, 0x10, "GEMS_PARM_01", {0x39: ("IS", ["1000", "8", "0", "0"])})
    assert private_tags(anonymized(mr, {})) == set()


def test_two_creators_in_one_group_are_told_apart_by_block(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "GEMS_ACQU_01", {0x0C: ("IS", "5"), 0x23: ("DS", "39.4")})
    reserve(mr, 0x0019, 0x11, "SIEMENS MR HEADER", {0x0C: ("IS", "1000"), 0x23: ("DS", "1")})
    out = anonymized(mr, RETAIN)
    # 0C is safe for Siemens only, 23 for GE only.
    assert private_tags(out) == {0x00190010, 0x00191023, 0x00190011, 0x0019110C}


def test_a_safe_element_under_an_unknown_creator_goes_with_its_creator(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "ACME MR HEADER", {0x0C: ("IS", "1000")})
    reserve(mr, 0x0019, 0x12, "SIEMENS MR HEADER", {0x0C: ("IS", "1000")})
    out = anonymized(mr, RETAIN)
    assert private_tags(out) == {0x00190012, 0x0019120C}


def test_an_element_whose_creator_is_missing_is_removed(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER", {0x0C: ("IS", "1000")})
    mr.add_new(0x0019110C, "IS", "1000")  # block 11: no (0019,0011)
    mr.add_new(0x00190005, "LO", "outside any block")
    mr.add_new(0x0019050C, "IS", "1000")  # block 05 cannot be reserved
    assert private_tags(anonymized(mr, RETAIN)) == {0x00190010, 0x0019100C}


def test_creator_padding_does_not_matter_but_case_does(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER ", {0x0C: ("IS", "1000")})
    reserve(mr, 0x0019, 0x11, "Siemens MR Header", {0x0C: ("IS", "1000")})
    assert private_tags(anonymized(mr, RETAIN)) == {0x00190010, 0x0019100C}


def test_items_have_their_own_blocks(mr: Dataset) -> None:
    inner = Dataset()
    reserve(inner, 0x2005, 0x12, "Philips MR Imaging DD 001", {0x0E: ("FL", 3.0)})
    inner.add_new(0x2005100E, "FL", 4.0)  # block 10 is reserved only at the top level
    orphan = Dataset()
    orphan.add_new(0x2005100E, "FL", 5.0)
    reference = Dataset()
    reference.ReferencedSOPClassUID = mr.SOPClassUID
    reference.ReferencedSOPInstanceUID = mr.SOPInstanceUID
    for item in (inner, orphan):
        item.update(reference)
    mr.ReferencedImageSequence = Sequence([inner, orphan])
    reserve(mr, 0x2005, 0x10, "Philips MR Imaging DD 001", {0x0E: ("FL", 2.0)})
    out = anonymized(mr, RETAIN)
    assert private_tags(out) == {0x20050010, 0x2005100E}
    first, second = out.ReferencedImageSequence
    assert private_tags(first) == {0x20050012, 0x2005120E} and first[0x2005120E].value == 3.0
    assert private_tags(second) == set()


def test_implicit_vr_values_read_as_un_are_kept_as_they_were(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER", {0x0C: ("IS", "1000"), 0x0E: ("FD", [0.0, 0.6, 0.8])})
    reserve(mr, 0x0029, 0x10, "SIEMENS CSA HEADER", {0x10: ("OB", b"SV10 DOE^JOHN 12345 ")})
    out = anonymized(mr, RETAIN, implicit=True)
    assert private_tags(out) == {0x00190010, 0x0019100C, 0x0019100E}
    assert out.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert raw_value(out, 0x0019100C) == b"1000"
    assert raw_value(out, 0x0019100E) == struct.pack("<3d", 0.0, 0.6, 0.8)


def test_a_binary_safe_value_read_as_un_is_never_scanned_as_text(mr: Dataset) -> None:
    # 24 bytes that read as date tokens: as FD (the table's VR, VM 3) they are numbers, kept byte for byte.
    value = b"202301012023010120230101"
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER", {0x0E: ("FD", list(struct.unpack("<3d", value))), 0x0C: ("IS", "9")})
    mr.StudyDate = "20230101"
    out = anonymized(mr, {**RETAIN, "ShiftDates": True}, implicit=True)
    assert raw_value(out, 0x0019100E) == value and out.StudyDate != "20230101"


def test_uids_in_kept_attributes_are_remapped(mr: Dataset) -> None:
    reserve(mr, 0x0099, 0x10, "NQHeader", {0x02: ("UI", mr.SeriesInstanceUID)})  # Analyzed Series UID
    out = anonymized(mr, RETAIN)
    assert out[0x00991002].value == out.SeriesInstanceUID != mr.SeriesInstanceUID


def test_uids_in_kept_attributes_read_as_un_are_remapped(mr: Dataset) -> None:
    reserve(mr, 0x0099, 0x10, "NQHeader", {0x02: ("UI", mr.SeriesInstanceUID)})
    out = anonymized(mr, RETAIN, implicit=True)
    assert raw_value(out, 0x00991002).rstrip(b"\x00").decode() == out.SeriesInstanceUID != mr.SeriesInstanceUID


def test_dates_in_kept_attributes_are_shifted_with_the_dates(mr: Dataset) -> None:
    mr.StudyDate = "20230101"
    keep = [{"Creator": "ACME", "Element": "0029,xx01"}, {"Creator": "ACME", "Element": "0029,xx02"}]
    reserve(mr, 0x0029, 0x10, "ACME", {0x01: ("DA", "20230101"), 0x02: ("LO", "scan 20230101")})
    out = anonymized(mr, {**RETAIN, "Keep": keep, "ShiftDates": True})
    assert out[0x00291001].value == out.StudyDate != "20230101"
    assert out[0x00291002].value == f"scan {out.StudyDate}"


def test_a_private_sequence_not_known_safe_is_judged_item_by_item(mr: Dataset) -> None:
    safe, unsafe = Dataset(), Dataset()
    reserve(safe, 0x2005, 0x10, "Philips MR Imaging DD 001", {0x0E: ("FL", 2.0), 0xF1: ("PN", "DOE^JOHN")})
    reserve(unsafe, 0x2005, 0x10, "Philips MR Imaging DD 001", {0xF1: ("PN", "DOE^JOHN")})
    reserve(mr, 0x0031, 0x10, "ACME 1", {0x01: ("SQ", Sequence([safe]))})
    reserve(mr, 0x0031, 0x11, "ACME 2", {0x01: ("SQ", Sequence([unsafe]))})
    blob = encode(mr)
    mr.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    implicit_blob = encode(mr)
    out, implicit_out = OfflineEngine().run([blob, implicit_blob], parse_options(json.dumps(RETAIN)))
    # PS3.15 E.3.10: parsed, each nested attribute judged; a sequence left empty goes with its creator.
    assert private_tags(out) == private_tags(implicit_out) == {0x00310010, 0x00311001}
    (item,) = out[0x00311001].value
    assert private_tags(item) == {0x20050010, 0x2005100E}
    # Implicit VR: the unknown sequence (read as UN) was parsed too; what stays is the safe part only.
    kept = raw_value(implicit_out, 0x00311001)
    assert b"Philips MR Imaging DD 001" in kept and struct.pack("<f", 2.0) in kept and b"DOE" not in kept


def test_a_safe_private_sequence_has_its_items_processed(mr: Dataset) -> None:
    item = Dataset()
    item.PatientName = "DOE^JOHN"
    item.add_new(0x20010010, "LO", "Philips Imaging DD 001")
    item.add_new(0x20011003, "FL", 1000.0)
    item.add_new(0x20011099, "LO", "DOE^JOHN")
    reserve(mr, 0x2001, 0x10, "Philips Imaging DD 001", {0x5F: ("SQ", Sequence([item]))})  # Stack Sequence
    out = anonymized(mr, RETAIN)
    (kept,) = out[0x2001105F].value
    assert private_tags(kept) == {0x20010010, 0x20011003}
    assert "DOE" not in str(kept.get("PatientName", ""))


def test_keep_of_a_private_tag_keeps_its_creator(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER", {0x0C: ("IS", "1000"), 0x0E: ("FD", [0.0, 0.0, 1.0])})
    out = anonymized(mr, {"Keep": ["0019,100C"]})
    assert private_tags(out) == {0x00190010, 0x0019100C}
    assert out[0x00190010].value == "SIEMENS MR HEADER"


def test_a_private_attribute_kept_by_keep_is_handled_like_any_kept_private_value(mr: Dataset) -> None:
    # Not pinned as a kept standard UI would be: its UID follows the mapping, as with KeepPrivateTags.
    reserve(mr, 0x0099, 0x10, "ACME", {0x02: ("UI", mr.SeriesInstanceUID), 0x03: ("LO", "20230101")})
    mr.StudyDate = "20230101"
    out = anonymized(mr, {"Keep": ["0099,1002", "0099,1003"], "ShiftDates": True})
    assert out[0x00991002].value == out.SeriesInstanceUID != mr.SeriesInstanceUID
    assert out[0x00991003].value == out.StudyDate != "20230101"


def test_keep_by_creator_is_independent_of_the_block(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "ACME", {0x0C: ("IS", "1")})
    reserve(mr, 0x0019, 0x13, "SIEMENS MR HEADER", {0x0C: ("IS", "1000"), 0x0E: ("FD", [0.0, 0.0, 1.0])})
    out = anonymized(mr, {"Keep": [{"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"}]})
    assert private_tags(out) == {0x00190013, 0x0019130C}


def test_keep_private_tags_still_keeps_everything(mr: Dataset) -> None:
    reserve(mr, 0x0019, 0x10, "ACME", {0x0C: ("LO", "anything")})
    out = anonymized(mr, {**RETAIN, "KeepPrivateTags": True})
    assert private_tags(out) == {0x00190010, 0x0019100C}


def test_the_site_list_extends_the_standard_one() -> None:
    site = SafePrivateAttribute("GEMS_ACQU_01", 0x0019, 0xBB, "", "", "site")
    table = load_safe_private().extended([site, load_safe_private().rows[0]])
    assert len(table.rows) == len(load_safe_private().rows) + 1
    selection = PrivateSelection.for_call(True, [], [], table)
    assert selection is not None
    assert selection.fate(0x001910BB, "DS", "GEMS_ACQU_01") is PrivateFate.KEEP_VALUE
    assert selection.fate(0x001910BC, "DS", "GEMS_ACQU_01") is PrivateFate.REMOVE


def test_nothing_to_select_means_no_selection() -> None:
    assert PrivateSelection.for_call(False, [0x00100010], [], load_safe_private()) is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("0019,xx0C", "an object"),
        ({"Creator": "SIEMENS MR HEADER"}, 'needs "Creator" and "Element"'),
        ({"Creator": "X", "Element": "0019,xx0C", "VR": "IS"}, 'unknown key.*"VR"'),
        ({"Creator": " ", "Element": "0019,xx0C"}, "non-empty"),
        ({"Creator": "A" * 65, "Element": "0019,xx0C"}, "at most 64"),
        ({"Creator": "A\\B", "Element": "0019,xx0C"}, "LO value"),
        ({"Creator": "X", "Element": "0019,100C"}, '"gggg,xxee"'),
        ({"Creator": "X", "Element": "0018,xx0C"}, "private group"),
        ({"Creator": "X", "Element": "0003,xx0C"}, "private group"),
        ({"Creator": "X", "Element": 25}, '"gggg,xxee"'),
    ],
)
def test_malformed_private_attributes_are_refused(entry: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_private_attribute(entry)


def test_private_attribute_forms() -> None:
    assert parse_private_element("(0019,XX0c)") == (0x0019, 0x0C)
    attribute = parse_private_attribute({"Creator": " SIEMENS MR HEADER ", "Element": "0019,xx0c"})
    assert attribute == PrivateAttribute("SIEMENS MR HEADER", 0x0019, 0x0C)
    assert str(attribute) == "SIEMENS MR HEADER (0019,xx0C)"
    assert attribute.as_json() == {"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Keep": ["0019,xx0C"]}, "does not say which Private Creator"),
        ({"Keep": [{"Creator": "X"}]}, '"Keep": a private attribute needs'),
        ({"Keep": [7]}, '"Keep" must be a list of tag names or private attributes'),
        ({"Options": ["RetainSafePrivat"]}, "RetainSafePrivat"),
    ],
)
def test_bad_private_keep_entries_answer_400(body: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        parse_options(json.dumps(body))


def test_private_keep_entries_are_parsed_and_recorded() -> None:
    options = parse_options(json.dumps({"Keep": ["0019,100C", {"Creator": "GEMS_PARM_01", "Element": "0043,xx39"}]}))
    assert options.keep == {0x0019100C}
    assert options.keep_private == {PrivateAttribute("GEMS_PARM_01", 0x0043, 0x39)}
    assert "Keep: GEMS_PARM_01 (0043,xx39)" in options.describe()
    safe = AnonymizationOptions(profile_options=frozenset({"RetainSafePrivate"}))
    assert safe.retain_safe_private and safe.describe() == ["Retain Safe Private Option"]


def test_a_private_sequence_stored_as_un_in_an_explicit_vr_file_is_parsed(mr: Dataset) -> None:
    item = Dataset()
    reserve(item, 0x2005, 0x10, "Philips MR Imaging DD 001", {0x0E: ("FL", 2.0), 0xF1: ("PN", "DOE^JOHN")})
    holder = copy.deepcopy(mr)
    reserve(holder, 0x0031, 0x10, "ACME 1", {0x01: ("SQ", Sequence([item]))})
    holder.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    (implicit,) = OfflineEngine().run([encode(holder)], parse_options(json.dumps({"KeepPrivateTags": True})))
    # As a converter writes an unknown private sequence: UN holding implicit VR items.
    reserve(mr, 0x0031, 0x10, "ACME 1", {0x01: ("UN", raw_value(implicit, 0x00311001))})
    out = anonymized(mr, RETAIN)
    (kept,) = out[0x00311001].value
    assert private_tags(kept) == {0x20050010, 0x2005100E} and kept[0x2005100E].value == 2.0


@pytest.mark.parametrize("implicit", [False, True])
def test_a_listed_element_of_another_kind_than_the_table_says_is_removed(mr: Dataset, implicit: bool) -> None:
    # Table E.3.10-1 lists a place, a VR and a VM: what is written there must be of that kind.
    reserve(
        mr,
        0x0019,
        0x11,
        "SIEMENS MR HEADER",
        {0x0E: ("PN", "DOE^JOHN 12345"), 0x0C: ("LO", "DOE JOHN"), 0x0D: ("CS", "DIRECTIONAL")},  # table: FD, IS, CS
    )
    reserve(mr, 0x0043, 0x10, "GEMS_PARM_01", {0x39: ("LO", "DOE JOHN 12345")})  # table: IS
    reserve(mr, 0x2005, 0x10, "Philips MR Imaging DD 001", {0x0E: ("SH", "DOE12345"), 0x0D: ("FL", -2.0)})  # FL
    out = anonymized(mr, RETAIN, implicit=implicit)
    assert private_tags(out) == {0x00190011, 0x0019110D, 0x20050010, 0x2005100D}
    # The values written above, whole: a random new UID or pseudonym may contain "12345" or "DOE" by chance.
    written = encode(out)
    assert not any(value in written for value in (b"DOE^JOHN 12345", b"DOE JOHN", b"DOE12345"))


@pytest.mark.parametrize(
    ("vr", "value", "kept"),
    [
        ("FD", struct.pack("<3d", 0.5, 0.5, 0.7), True),  # VM 3
        ("FD", struct.pack("<2d", 0.5, 0.5), False),  # a multiple of 8, but 2 values
        ("FD", b"DOE^JOHN 12345", False),  # 14 bytes
    ],
)
def test_a_binary_listed_value_read_as_un_needs_a_length_its_vr_and_vm_allow(
    mr: Dataset, vr: str, value: bytes, kept: bool
) -> None:
    reserve(mr, 0x0019, 0x10, "SIEMENS MR HEADER", {0x0E: ("UN", value)})
    out = anonymized(mr, RETAIN, implicit=True)
    assert (0x0019100E in private_tags(out)) is kept
