"""Real DICOM test data from pydicom's bundled files, and linked objects built from them."""

from __future__ import annotations

import copy
import itertools
from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

TEST_FILES = Path(str(get_testdata_file("CT_small.dcm"))).parent
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_STRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
RT_PLAN_STORAGE = "1.2.840.10008.5.1.4.1.1.481.5"


def read(name: str | Path) -> Dataset:
    return pydicom.dcmread(TEST_FILES / name, force=True)


def encode(dataset: Dataset) -> bytes:
    """A proper Part 10 file, as Orthanc would receive it from a modality."""
    if "TransferSyntaxUID" not in getattr(dataset, "file_meta", FileMetaDataset()):
        dataset.file_meta = FileMetaDataset()
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def encode_without_meta(dataset: Dataset, implicit_vr: bool = True, little_endian: bool = True) -> bytes:
    """The bare dataset, no preamble and no file meta, as some senders and old archives write it."""
    dataset = copy.deepcopy(dataset)
    if "file_meta" in dataset.__dict__:
        del dataset.file_meta
    dataset.preamble = None
    buffer = BytesIO()
    pydicom.dcmwrite(buffer, dataset, implicit_vr=implicit_vr, little_endian=little_endian)
    return buffer.getvalue()


def series_files(study_dir: str) -> list[Dataset]:
    return [pydicom.dcmread(p) for p in sorted((TEST_FILES / "dicomdirtests" / study_dir).glob("*/*"))]


def ct_study() -> list[Dataset]:
    """98892001: one CT study, two series sharing one FrameOfReferenceUID."""
    return series_files("98892001")


def mr_patient() -> list[Dataset]:
    """98892003: three MR studies of one patient; series of a study share a FoR."""
    return series_files("98892003")


def _retarget(dataset: Dataset, replacements: dict[str, str], by_class: dict[str, itertools.cycle[str]]) -> None:
    """Point every reference of an RT object at the given study, recursively."""
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value:
                referenced_class = item.get("ReferencedSOPClassUID")
                if referenced_class in by_class and "ReferencedSOPInstanceUID" in item:
                    item.ReferencedSOPInstanceUID = next(by_class[referenced_class])
                _retarget(item, replacements, by_class)
        elif element.VR == "UI" and isinstance(element.value, str) and element.value in replacements:
            element.value = replacements[element.value]


def _make_member(template: Dataset, ct: Dataset, by_class: dict[str, itertools.cycle[str]]) -> Dataset:
    replacements = {template.StudyInstanceUID: ct.StudyInstanceUID}
    if "FrameOfReferenceUID" in template:
        replacements[template.FrameOfReferenceUID] = ct.FrameOfReferenceUID
    for sequence in ("ReferencedFrameOfReferenceSequence", "StructureSetROISequence"):
        for item in template.get(sequence, []):
            for key in ("FrameOfReferenceUID", "ReferencedFrameOfReferenceUID"):
                if key in item:
                    replacements[item[key].value] = ct.FrameOfReferenceUID
    for item in template.get("ReferencedFrameOfReferenceSequence", []):
        for study in item.get("RTReferencedStudySequence", []):
            replacements[study.ReferencedSOPInstanceUID] = ct.StudyInstanceUID
            for series in study.get("RTReferencedSeriesSequence", []):
                replacements[series.SeriesInstanceUID] = ct.SeriesInstanceUID
    _retarget(template, replacements, by_class)
    template.SOPInstanceUID = generate_uid()
    template.SeriesInstanceUID = generate_uid()
    for key in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyID", "StudyDate"):
        if key in ct:
            setattr(template, key, ct[key].value)
    return template


def _image_reference(image: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = image.SOPClassUID
    item.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return item


def rt_study() -> list[Dataset]:
    """A CT series plus an RTSTRUCT on it, an RTPLAN on the RTSTRUCT and an RTDOSE on the plan."""
    cts = [ds for ds in ct_study() if ds.SeriesInstanceUID == ct_study()[-1].SeriesInstanceUID]
    ct = cts[0]
    ct_uids = itertools.cycle([c.SOPInstanceUID for c in cts])
    rtstruct = _make_member(read("rtstruct.dcm"), ct, {CT_IMAGE_STORAGE: ct_uids})
    referenced_series = rtstruct.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    referenced_series.RTReferencedSeriesSequence[0].ContourImageSequence = [_image_reference(c) for c in cts]
    rtplan = _make_member(read("rtplan.dcm"), ct, {RT_STRUCT_STORAGE: itertools.cycle([rtstruct.SOPInstanceUID])})
    rtdose = _make_member(read("rtdose.dcm"), ct, {RT_PLAN_STORAGE: itertools.cycle([rtplan.SOPInstanceUID])})
    return [*cts, rtstruct, rtplan, rtdose]


def with_references_and_overlay(dataset: Dataset) -> Dataset:
    """Add what the profile removes or empties around a valid IOD: a Type 3 ReferencedStudySequence
    and a ReferencedPatientSequence with one item each, and (unless it has one) a complete overlay 6000."""
    study, patient = Dataset(), Dataset()
    study.ReferencedSOPClassUID, study.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.3.1", generate_uid()
    patient.ReferencedSOPClassUID, patient.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.1.1", generate_uid()
    dataset.ReferencedStudySequence = Sequence([study])
    dataset.ReferencedPatientSequence = Sequence([patient])
    if 0x60000010 not in dataset:
        rows, columns = dataset.Rows, dataset.Columns
        dataset.add_new(0x60000010, "US", rows)  # OverlayRows
        dataset.add_new(0x60000011, "US", columns)  # OverlayColumns
        dataset.add_new(0x60000040, "CS", "G")  # OverlayType
        dataset.add_new(0x60000050, "SS", [1, 1])  # OverlayOrigin
        dataset.add_new(0x60000100, "US", 1)  # OverlayBitsAllocated
        dataset.add_new(0x60000102, "US", 0)  # OverlayBitPosition
        packed = bytes([0x81]) * ((rows * columns + 7) // 8)
        dataset.add_new(0x60003000, "OW", packed + b"\x00" * (len(packed) % 2))  # OverlayData
    return dataset


def encoded(datasets: list[Dataset]) -> list[bytes]:
    return [encode(ds) for ds in datasets]


def reidentified(datasets: list[Dataset], patient_id: str | None = None) -> list[Dataset]:
    """The same objects under new UIDs (consistently), so each test gets its own study in Orthanc."""
    from anon_consistent.uid_policy import is_registry_uid, keeps_uid_attribute

    new_uids: dict[str, str] = {}

    def remap(dataset: Dataset) -> None:
        for element in dataset:
            if element.VR == "SQ":
                for item in element.value:
                    remap(item)
            elif element.VR == "UI" and element.value and not keeps_uid_attribute(element.tag):
                if isinstance(element.value, str) and not is_registry_uid(element.value):
                    element.value = new_uids.setdefault(element.value, generate_uid())

    for dataset in datasets:
        remap(dataset)
        if patient_id is not None:
            dataset.PatientID = patient_id
            dataset.PatientName = f"Test^{patient_id}"
    return datasets


def with_wrong_vr(data: bytes, dataset: Dataset, keyword: str) -> bytes:
    """``data`` (explicit VR little endian) with the UI attribute ``keyword`` written as FD 1.5.

    Such a file is what a faulty writer produces: the VR in the file is not the dictionary's.
    """
    import struct

    element = dataset[keyword]
    value = str(element.value).encode("ascii")
    value += b"\x00" * (len(value) % 2)
    header = struct.pack("<HH", element.tag.group, element.tag.element)
    original = header + b"UI" + struct.pack("<H", len(value)) + value
    assert data.count(original) == 1, f"{keyword} must occur once in the data"
    return data.replace(original, header + b"FD" + struct.pack("<Hd", 8, 1.5))
