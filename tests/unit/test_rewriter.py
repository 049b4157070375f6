"""The rewriter on real files: consistency of every UID relation, and privacy."""

from __future__ import annotations

from collections import defaultdict

import pydicom
import pytest
from pydicom.dataset import Dataset

from anon_consistent.options import parse_options
from tests.dicom_data import ct_study, encode, encode_without_meta, encoded, mr_patient, read, rt_study
from tests.engine import OfflineEngine
from tests.privacy import leaked, uid_values


def fo_r_groups(datasets: list[Dataset], originals: list[Dataset]) -> set[frozenset[str]]:
    """Original series grouped by the FrameOfReferenceUID their instances carry in ``datasets``."""
    groups: dict[str, set[str]] = defaultdict(set)
    for ds, original in zip(datasets, originals, strict=True):
        if "FrameOfReferenceUID" in ds:
            groups[ds.FrameOfReferenceUID].add(original.SeriesInstanceUID)
    return {frozenset(g) for g in groups.values()}


def order_by_original(originals: list[Dataset], outputs: list[Dataset]) -> list[tuple[Dataset, Dataset]]:
    return list(zip(originals, outputs, strict=True))


def test_ct_study_keeps_one_study_two_series_one_frame_of_reference() -> None:
    originals = ct_study()
    outputs = OfflineEngine().run(encoded(ct_study()))
    assert len({d.StudyInstanceUID for d in outputs}) == 1
    assert len({d.SeriesInstanceUID for d in outputs}) == 2
    assert len({d.FrameOfReferenceUID for d in outputs}) == 1
    assert {d.StudyInstanceUID for d in outputs}.isdisjoint({d.StudyInstanceUID for d in originals})
    assert {d.FrameOfReferenceUID for d in outputs}.isdisjoint({d.FrameOfReferenceUID for d in originals})
    assert len({d.SOPInstanceUID for d in outputs}) == len(originals)


def test_series_mapping_is_a_bijection_of_the_original_series() -> None:
    originals = ct_study()
    outputs = OfflineEngine().run(encoded(ct_study()))
    pairs = {(o.SeriesInstanceUID, n.SeriesInstanceUID) for o, n in order_by_original(originals, outputs)}
    assert len(pairs) == 2
    assert len({new for _, new in pairs}) == 2


def test_mr_patient_keeps_frame_of_reference_groups_across_three_studies() -> None:
    originals = mr_patient()
    outputs = OfflineEngine().run(encoded(mr_patient()))
    assert len({d.StudyInstanceUID for d in outputs}) == 3
    assert fo_r_groups(outputs, originals) == fo_r_groups(originals, originals)
    assert len(fo_r_groups(originals, originals)) == 3
    for original, new in order_by_original(originals, outputs):
        assert ("FrameOfReferenceUID" in new) == ("FrameOfReferenceUID" in original)
    # One original UID, one new UID, wherever it is used (these files reuse
    # the StudyInstanceUID as the FrameOfReferenceUID).
    for original, new in order_by_original(originals, outputs):
        assert (original.StudyInstanceUID == original.FrameOfReferenceUID) == (
            new.StudyInstanceUID == new.FrameOfReferenceUID
        )


def test_one_pseudonym_per_patient_and_no_original_name_or_id() -> None:
    outputs = OfflineEngine().run(encoded(mr_patient()))
    assert len({str(d.PatientID) for d in outputs}) == 1
    assert {str(d.PatientName) for d in outputs} == {str(outputs[0].PatientID)}
    assert outputs[0].PatientID != mr_patient()[0].PatientID


def test_rt_references_point_at_the_anonymized_objects() -> None:
    originals = rt_study()
    outputs = OfflineEngine().run(encoded(rt_study()))
    *cts, rtstruct, rtplan, rtdose = outputs
    ct_sops = {c.SOPInstanceUID for c in cts}
    frame = rtstruct.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == cts[0].FrameOfReferenceUID
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert frame.RTReferencedStudySequence[0].ReferencedSOPInstanceUID == cts[0].StudyInstanceUID
    assert series.SeriesInstanceUID == cts[0].SeriesInstanceUID
    assert {i.ReferencedSOPInstanceUID for i in series.ContourImageSequence} == ct_sops
    assert {r.ReferencedFrameOfReferenceUID for r in rtstruct.StructureSetROISequence} == {cts[0].FrameOfReferenceUID}
    assert rtplan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == rtstruct.SOPInstanceUID
    assert rtdose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == rtplan.SOPInstanceUID
    assert rtdose.FrameOfReferenceUID == cts[0].FrameOfReferenceUID
    assert leaked(encoded(outputs), originals) == {}


def test_class_and_registry_uids_are_kept() -> None:
    originals = rt_study()
    outputs = OfflineEngine().run(encoded(originals))  # encoding gives the originals their file meta
    for original, new in zip(originals, outputs, strict=True):
        assert new.SOPClassUID == original.SOPClassUID
        assert new.file_meta.MediaStorageSOPClassUID == original.SOPClassUID
        assert new.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert new.file_meta.MediaStorageSOPInstanceUID == new.SOPInstanceUID
    series = outputs[-3].ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    assert series.ReferencedSOPClassUID == "1.2.840.10008.3.1.2.3.1"  # registry value, kept


@pytest.mark.parametrize("name", ["test-SR.dcm", "liver_1frame.dcm", "rtdose.dcm", "rtplan.dcm", "rtstruct.dcm"])
def test_single_objects_leak_no_identifier(name: str) -> None:
    original = read(name)
    outputs = OfflineEngine().run_bytes([encode(read(name))])
    assert uid_values(pydicom.dcmread(pydicom.filebase.DicomBytesIO(outputs[0]))).isdisjoint(uid_values(original))
    assert leaked(outputs, [original]) == {}


def test_sr_content_references_stay_consistent_with_evidence() -> None:
    sr = read("test-SR.dcm")
    evidence = {i.ReferencedSOPInstanceUID for i in _referenced_sops(sr)}
    options = parse_options(b'{"CleanStructuredContent": true}')  # keeps the content tree's references
    out = OfflineEngine().run([encode(read("test-SR.dcm"))], options)[0]
    new_evidence = {i.ReferencedSOPInstanceUID for i in _referenced_sops(out)}
    assert len(new_evidence) == len(evidence) > 0
    assert new_evidence.isdisjoint(evidence)


def _referenced_sops(dataset: Dataset) -> list[Dataset]:
    found = []
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value:
                if "ReferencedSOPInstanceUID" in item:
                    found.append(item)
                found.extend(_referenced_sops(item))
    return found


def test_seg_keeps_its_source_image_references_consistent() -> None:
    seg = read("liver_1frame.dcm")
    out = OfflineEngine().run([encode(read("liver_1frame.dcm"))])[0]
    before = [i.ReferencedSOPInstanceUID for i in _referenced_sops(seg)]
    after = [i.ReferencedSOPInstanceUID for i in _referenced_sops(out)]
    assert len(after) == len(before) > 0
    # Equal originals map to equal new values, different ones stay different.
    assert [before.index(b) for b in before] == [after.index(a) for a in after]
    assert set(after).isdisjoint(before)


def test_pixel_data_is_untouched() -> None:
    originals = ct_study()
    outputs = OfflineEngine().run(encoded(ct_study()))
    for original, new in zip(originals, outputs, strict=True):
        assert new.PixelData == original.PixelData


def test_replace_of_frame_of_reference_applies_at_every_depth() -> None:
    options = parse_options(b'{"Replace": {"FrameOfReferenceUID": "1.2.3.4.5"}}')
    outputs = OfflineEngine().run(encoded(rt_study()), options)
    *cts, rtstruct, _, rtdose = outputs
    assert {c.FrameOfReferenceUID for c in cts} == {"1.2.3.4.5"}
    assert rtdose.FrameOfReferenceUID == "1.2.3.4.5"
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == "1.2.3.4.5"
    assert {r.ReferencedFrameOfReferenceUID for r in rtstruct.StructureSetROISequence} == {"1.2.3.4.5"}


def test_keep_of_frame_of_reference_keeps_it_everywhere_and_nothing_else() -> None:
    original = rt_study()
    options = parse_options(b'{"Keep": ["FrameOfReferenceUID"]}')
    outputs = OfflineEngine().run(encoded(rt_study()), options)
    rtstruct = outputs[-3]
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == original[0].FrameOfReferenceUID
    assert outputs[0].FrameOfReferenceUID == original[0].FrameOfReferenceUID
    assert outputs[0].StudyInstanceUID != original[0].StudyInstanceUID


def test_private_tags_removed_by_default_and_mapped_when_kept() -> None:
    ds = ct_study()[0]
    ds.add_new(0x00090010, "LO", "ACME")
    ds.add_new(0x00091001, "UI", ds.StudyInstanceUID)
    ds.add_new(0x00091002, "LO", "private note")
    default = OfflineEngine().run([encode(ds)])[0]
    assert not any(element.tag.is_private for element in default)
    engine = OfflineEngine()
    kept = engine.run([encode(ds)], parse_options(b'{"KeepPrivateTags": true}'))[0]
    assert kept[0x00091001].value == kept.StudyInstanceUID != ds.StudyInstanceUID
    assert kept[0x00091002].value == "private note"


def test_profile_actions_on_known_attributes() -> None:
    ds = ct_study()[0]
    ds.AccessionNumber = "ACC123"
    ds.InstitutionName = "General Hospital"
    ds.ReferringPhysicianName = "Doe^John"
    ds.PatientBirthDate = "19700101"
    ds.ContentDate = "20200102"
    ds.OperatorsName = "Smith^Anna"
    ds.StationName = "CT-ROOM-3"
    out = OfflineEngine().run([encode(ds)])[0]
    assert out.AccessionNumber == ""  # Z
    assert out.ReferringPhysicianName == ""  # Z
    assert out.PatientBirthDate == ""  # Z
    # Choices by the attribute's Type in the CT Image IOD: 3 -> removed, 2C -> empty.
    assert "InstitutionName" not in out  # X/Z/D, Type 3
    assert "OperatorsName" not in out  # X/Z/D, Type 3
    assert "StationName" not in out  # X/Z/D, Type 3 (it used to stay as ANONYMIZED)
    assert out.ContentDate == ""  # Z/D, Type 2C
    assert out.PatientIdentityRemoved == "YES"
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == ["113100"]
    assert out.DeidentificationMethod[0] == "PS3.15 2026c Basic Application Confidentiality Profile"


def test_shift_dates_moves_every_date_by_one_offset_per_patient() -> None:
    originals = mr_patient()
    outputs = OfflineEngine().run(encoded(mr_patient()), parse_options(b'{"ShiftDates": true}'))
    shifts = set()
    for original, new in zip(originals, outputs, strict=True):
        for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
            if original.get(keyword):
                shifts.add(_days_between(original[keyword].value, new[keyword].value))
    assert len(shifts) == 1 and shifts.pop() != 0
    assert outputs[0].LongitudinalTemporalInformationModified == "MODIFIED"
    assert [c.CodeValue for c in outputs[0].DeidentificationMethodCodeSequence] == ["113100", "113107"]


def _days_between(before: str, after: str) -> int:
    import datetime as dt

    parse = lambda text: dt.datetime.strptime(text[:8], "%Y%m%d").date()  # noqa: E731
    return (parse(after) - parse(before)).days


def test_unparseable_instance_raises_a_clear_error() -> None:
    from anon_consistent.rewriter import InstanceRewriteError

    with pytest.raises(InstanceRewriteError, match=r"SOPInstanceUID|parse"):
        OfflineEngine().run_bytes([b"not a dicom file at all"])


def test_replace_of_numeric_attributes_is_encoded_in_their_vr() -> None:
    options = parse_options(b'{"Replace": {"Rows": "512", "SliceThickness": "1.25", "PatientWeight": "70"}}')
    out = OfflineEngine().run([encode(ct_study()[0])], options)[0]
    assert out.Rows == 512 and float(out.SliceThickness) == 1.25 and float(out.PatientWeight) == 70


def _without_class(meta_class: str | None) -> bytes:
    """A CT instance with no SOPClassUID, its meta declaring ``meta_class`` (or none)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import UID

    ds = ct_study()[0]
    del ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if meta_class is None:
        del ds.file_meta.MediaStorageSOPClassUID
    else:
        ds.file_meta.MediaStorageSOPClassUID = UID(meta_class)
    # Assembled by hand: pydicom's file writer insists on a class in the meta.
    meta = DicomBytesIO()
    write_file_meta_info(meta, ds.file_meta, enforce_standard=False)
    return b"\x00" * 128 + b"DICM" + meta.getvalue() + encode_without_meta(ds, implicit_vr=False)


@pytest.mark.parametrize(
    ("meta_class", "expected"),
    [
        ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2"),  # from the source meta
        (None, "1.2.276.0.7230010.3.1.0.1"),  # DCMTK's generic class, as native writes
    ],
)
def test_no_sop_class_gives_a_meta_class_and_adds_none(meta_class: str | None, expected: str) -> None:
    data = _without_class(meta_class)
    assert "SOPClassUID" not in pydicom.dcmread(pydicom.filebase.DicomBytesIO(data), force=True)
    out = OfflineEngine().run([data])[0]
    assert out.file_meta.MediaStorageSOPClassUID == expected
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert "SOPClassUID" not in out


@pytest.mark.parametrize(("implicit_vr", "syntax"), [(True, "1.2.840.10008.1.2"), (False, "1.2.840.10008.1.2.1")])
@pytest.mark.parametrize("has_class", [True, False])
def test_no_file_meta_gives_a_full_part_10_file(implicit_vr: bool, syntax: str, has_class: bool) -> None:
    ds = ct_study()[0]
    if not has_class:
        del ds.SOPClassUID
    data = encode_without_meta(ds, implicit_vr=implicit_vr)
    assert data[128:132] != b"DICM"
    out_bytes = OfflineEngine().run_bytes([data])[0]
    assert out_bytes[128:132] == b"DICM"
    out = pydicom.dcmread(pydicom.filebase.DicomBytesIO(out_bytes))  # no force: a conformant file
    assert out.file_meta.TransferSyntaxUID == syntax
    assert out.original_encoding == (implicit_vr, True)
    expected_class = "1.2.840.10008.5.1.4.1.1.2" if has_class else "1.2.276.0.7230010.3.1.0.1"
    assert out.file_meta.MediaStorageSOPClassUID == expected_class
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != ds.SOPInstanceUID
    assert out.PatientID != ds.PatientID
