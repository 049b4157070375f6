"""Edge cases found by an adversarial review: each one leaked or broke before its fix."""

from __future__ import annotations

import json
from io import BytesIO

import pydicom
import pytest
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from anon_consistent.options import parse_options
from anon_consistent.profile import TABLE_PATH
from anon_consistent.uid_policy import CLASS_LIKE_UID_TAGS
from tests.dicom_data import ct_study, encode, encoded, rt_study
from tests.engine import OfflineEngine


def code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
    return item


def sr_with_text() -> Dataset:
    ds = ct_study()[0]  # any object will do: the rule is on the sequence
    text = Dataset()
    text.ValueType, text.RelationshipType, text.TextValue = "TEXT", "CONTAINS", "Seen by Dr SECRET_NAME at home"
    text.ConceptNameCodeSequence = Sequence([code("121071", "Finding")])
    person = Dataset()
    person.ValueType, person.PersonName = "PNAME", "Observer^SECRET"
    when = Dataset()
    when.ValueType, when.DateTime = "DATETIME", "20200304101112"
    ds.ContentSequence = Sequence([text, person, when])
    return ds


def test_content_sequence_keeps_only_its_structure_by_default() -> None:
    out_bytes = OfflineEngine().run_bytes([encode(sr_with_text())])[0]
    assert b"SECRET" not in out_bytes and b"20200304" not in out_bytes and b"Finding" not in out_bytes
    content = pydicom.dcmread(BytesIO(out_bytes)).ContentSequence
    assert [item.ValueType for item in content] == ["TEXT", "PNAME", "DATETIME"]


def test_clean_structured_content_keeps_coded_concepts_but_no_free_text() -> None:
    options = parse_options(b'{"CleanStructuredContent": true}')
    out = OfflineEngine().run_bytes([encode(sr_with_text())], options)[0]
    assert b"SECRET" not in out and b"20200304" not in out
    content = pydicom.dcmread(BytesIO(out)).ContentSequence
    assert content[0].ValueType == "TEXT" and content[0].RelationshipType == "CONTAINS"
    assert content[0].ConceptNameCodeSequence[0].CodeMeaning == "Finding"  # the SR keeps its meaning
    codes = [c.CodeValue for c in pydicom.dcmread(BytesIO(out)).DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113104"]


def test_preamble_and_file_meta_carry_nothing_from_the_source() -> None:
    ds = ct_study()[0]
    blob = bytearray(encode(ds))
    blob[:15] = b"SECRET^PREAMBLE"
    ds = pydicom.dcmread(BytesIO(bytes(blob)))
    ds.file_meta.SourcePresentationAddress = "dicom://pacs.secret-hospital.example:104"
    ds.file_meta.SourceApplicationEntityTitle = "SECRETAE"
    ds.file_meta.RTVCommunicationSOPInstanceUID = generate_uid()
    out = OfflineEngine().run_bytes([encode(ds)])[0]
    assert out[:128] == b"\x00" * 128
    assert b"secret-hospital" not in out and b"SECRETAE" not in out
    assert ds.file_meta.RTVCommunicationSOPInstanceUID.encode() not in out
    meta = pydicom.dcmread(BytesIO(out)).file_meta
    assert {keyword_for_tag(t) for t in meta.keys()} == {
        "FileMetaInformationGroupLength", "FileMetaInformationVersion", "MediaStorageSOPClassUID",
        "MediaStorageSOPInstanceUID", "TransferSyntaxUID", "ImplementationClassUID", "ImplementationVersionName",
    }  # fmt: skip


def test_shift_dates_removes_what_it_cannot_shift() -> None:
    ds = ct_study()[0]
    ds.add_new(0x00340007, "OB", b"\x01\x02\x03\x04\x05\x06\x07\x08")  # FrameOriginTimestamp
    ds.add_new(0x00080020, "SH", "20190102")  # StudyDate with a wrong explicit VR
    out = OfflineEngine().run([encode(ds)], parse_options(b'{"ShiftDates": true}'))[0]
    assert out[0x00340007].value != b"\x01\x02\x03\x04\x05\x06\x07\x08"  # D: dummy, never the original
    assert out[0x00080020].value not in ("20190102", "")


def test_no_class_like_uid_is_one_the_profile_says_to_replace() -> None:
    rows = json.loads(TABLE_PATH.read_text())["attributes"]
    replaced = {int(r["tag"], 16) for r in rows if r["basic"] == "U" and "x" not in r["tag"]}
    assert {int(t) for t in CLASS_LIKE_UID_TAGS} & replaced == set()


def test_template_extension_uids_are_remapped() -> None:
    ds = ct_study()[0]
    item = Dataset()
    item.TemplateExtensionOrganizationUID = "1.2.826.0.1.3680043.10.4242.1"
    ds.ContentTemplateSequence = Sequence([item])
    out = OfflineEngine().run_bytes([encode(ds)])[0]
    assert b"1.2.826.0.1.3680043.10.4242.1" not in out


def implicit_file(ds: Dataset) -> bytes:
    """Implicit VR little endian, as old modalities send it: private VRs are unknown on reading."""
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    for element in ds:
        if element.VR == "SQ":
            element.is_undefined_length = False  # a defined length hides a private sequence as UN
    return encode(ds)


def test_kept_private_tags_in_implicit_vr_hide_nothing() -> None:
    ds = ct_study()[0]
    ds.add_new(0x00290010, "LO", "ACME")
    inner = Dataset()
    inner.PatientName = "Hidden^SECRET"
    inner.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.add_new(0x00291001, "SQ", Sequence([inner]))
    ds.add_new(0x00291002, "LO", f"{ds.StudyInstanceUID}\\{ds.SeriesInstanceUID}")
    ds.add_new(0x00291003, "DA", "20180505")
    blob = implicit_file(ds)
    out = OfflineEngine().run_bytes([blob], parse_options(b'{"KeepPrivateTags": true, "ShiftDates": true}'))[0]
    assert b"SECRET" not in out
    for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID):
        assert uid.encode() not in out
    assert b"20180505" not in out


def test_keep_and_replace_of_frame_of_reference_reach_objects_that_only_nest_it() -> None:
    originals = rt_study()
    blobs = encoded(originals)
    rtstruct = blobs[-3]  # no top-level FrameOfReferenceUID
    original_frame = originals[0].FrameOfReferenceUID
    kept = OfflineEngine().run([rtstruct], parse_options(b'{"Keep": ["FrameOfReferenceUID"]}'))[0]
    assert kept.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == original_frame
    assert {r.ReferencedFrameOfReferenceUID for r in kept.StructureSetROISequence} == {original_frame}
    body = b'{"Replace": {"FrameOfReferenceUID": "1.2.826.0.1.3680043.10.1.7"}}'
    replaced = OfflineEngine().run([rtstruct], parse_options(body))[0]
    assert replaced.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == "1.2.826.0.1.3680043.10.1.7"


def test_replace_of_an_ambiguous_vr_attribute_in_implicit_vr() -> None:
    blob = implicit_file(ct_study()[0])
    out = OfflineEngine().run([blob], parse_options(b'{"Replace": {"SmallestImagePixelValue": "5"}}'))[0]
    assert out.SmallestImagePixelValue == 5


def test_replace_of_a_class_uid_is_applied_not_ignored() -> None:
    body = b'{"Replace": {"SOPClassUID": "1.2.826.0.1.3680043.10.1.99"}}'
    out = OfflineEngine().run([encode(ct_study()[0])], parse_options(body))[0]
    assert out.SOPClassUID == "1.2.826.0.1.3680043.10.1.99" == out.file_meta.MediaStorageSOPClassUID


def test_urls_and_overlay_text_beyond_the_table_are_removed() -> None:
    ds = ct_study()[0]
    ds.RetrieveURL = f"https://pacs.secret-hospital.example/studies/{ds.StudyInstanceUID}"
    ds.add_new(0x60000022, "LO", "Marked by SECRET")
    ds.add_new(0x60001500, "LO", "SECRET label")
    out = OfflineEngine().run_bytes([encode(ds)])[0]
    assert b"secret-hospital" not in out and b"SECRET" not in out


def test_private_binary_data_is_kept_as_it_is() -> None:
    ds = ct_study()[0]
    ds.add_new(0x00290010, "LO", "ACME")
    blob = b"\xfe\xff\x00\xe0" + b"vendor bytes"  # looks like an item tag, is not a sequence
    ds.add_new(0x00291010, "OB", blob)
    ds.add_new(0x00291011, "OB", ds.StudyInstanceUID.encode() + b"\x00")  # a UID-looking blob
    out = OfflineEngine().run([encode(ds)], parse_options(b'{"KeepPrivateTags": true}'))[0]
    assert out[0x00291010].VR == "OB" and out[0x00291010].value == blob
    assert out[0x00291011].VR == "OB"


def test_a_date_shaped_private_value_keeps_its_unknown_type() -> None:
    ds = ct_study()[0]
    ds.add_new(0x00290010, "LO", "ACME")
    ds.add_new(0x00291003, "DA", "20180505")
    out = OfflineEngine().run([implicit_file(ds)], parse_options(b'{"KeepPrivateTags": true, "ShiftDates": true}'))[0]
    element = out[0x00291003]
    assert element.VR == "UN" and element.value not in (b"20180505", b"")


def with_private_dates(ds: Dataset, date: str = "20230101") -> Dataset:
    """The same date as StudyDate in private elements of several VRs, as vendors write them."""
    ds.StudyDate = date
    ds.add_new(0x00290010, "LO", "ACME")
    ds.add_new(0x00291010, "IS", date)
    ds.add_new(0x00291011, "DS", date)
    ds.add_new(0x00291012, "LO", date)
    ds.add_new(0x00291013, "LO", ["X", date])
    ds.add_new(0x00291014, "IS", date + "1230")  # a DT in 12 characters
    ds.add_new(0x00291015, "LT", f"Scanned {date[:4]}-{date[4:6]}-{date[6:]}T08:30:00")
    ds.add_new(0x00291016, "CS", date)
    ds.add_new(0x00291017, "IS", "20231399")  # date-shaped, no date: a number, kept
    return ds


def private_values(ds: Dataset) -> dict[int, str]:
    """Every private value of 0029,10xx as text, whether read with its VR or as UN bytes."""
    values = {}
    for element in ds:
        if element.tag.group == 0x0029 and element.tag.element > 0x1000:
            value = element.value
            if isinstance(value, bytes):
                value = value.decode("latin-1").rstrip(" \x00")
            elif not isinstance(value, str):
                value = "\\".join(str(v) for v in value) if element.VM > 1 else str(value)
            values[element.tag.element & 0xFF] = value
    return values


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit-UN"])
def test_private_dates_are_shifted_whatever_their_vr(implicit: bool) -> None:
    ds = with_private_dates(ct_study()[0])
    blob = implicit_file(ds) if implicit else encode(ds)
    options = parse_options(b'{"KeepPrivateTags": true, "ShiftDates": true}')
    out_bytes = OfflineEngine().run_bytes([blob], options)[0]
    assert b"20230101" not in out_bytes and b"2023-01-01" not in out_bytes
    out = pydicom.dcmread(BytesIO(out_bytes))
    new = out.StudyDate
    assert new != "20230101"
    iso = f"{new[:4]}-{new[4:6]}-{new[6:]}"
    assert private_values(out) == {
        0x10: new, 0x11: new, 0x12: new, 0x13: f"X\\{new}", 0x14: new + "1230",
        0x15: f"Scanned {iso}T08:30:00", 0x16: new, 0x17: "20231399",
    }  # fmt: skip
    if implicit:
        assert {out[0x00291000 | e].VR for e in range(0x10, 0x18)} == {"UN"}


def test_scanned_private_text_keeps_its_other_bytes_exactly() -> None:
    ds = ct_study()[0]
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.StudyDate = "20230101"
    ds.add_new(0x00290010, "LO", "ACME")
    ds.add_new(0x00291020, "LO", ["Müller", "20230101"])
    options = parse_options(b'{"KeepPrivateTags": true, "ShiftDates": true}')
    for blob in (encode(ds), implicit_file(ds)):
        out = OfflineEngine().run_bytes([blob], options)[0]
        new_date = pydicom.dcmread(BytesIO(out)).StudyDate
        assert f"Müller\\{new_date}".encode("latin-1") in out
