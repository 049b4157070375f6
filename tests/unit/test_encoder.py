"""The fast encoder is byte-identical to pydicom's writer."""

from __future__ import annotations

from io import BytesIO

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.valuerep import PersonName

from anon_consistent.encoder import encode, text_value
from anon_consistent.rewriter import sync_file_meta
from tests.dicom_data import TEST_FILES, ct_study, encoded, mr_patient, read, rt_study

NAMED = [
    "test-SR.dcm",
    "liver_1frame.dcm",
    "MR_small_implicit.dcm",
    "CT_small.dcm",
    "JPEG2000.dcm",
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "rtdose.dcm",
]


def _blob(name: str) -> bytes:
    data = (TEST_FILES / name).read_bytes()
    return data if data[128:132] == b"DICM" else encoded([read(name)])[0]


BLOBS = [_blob(n) for n in NAMED] + encoded(ct_study()) + encoded(mr_patient()[:3]) + encoded(rt_study())


@pytest.mark.parametrize("change", [False, True], ids=["untouched", "changed"])
@pytest.mark.parametrize("index", range(len(BLOBS)))
def test_identical_to_pydicom(index: int, change: bool) -> None:
    ours, reference = (pydicom.dcmread(BytesIO(BLOBS[index]), force=True) for _ in range(2))
    if change:
        for dataset in (ours, reference):
            dataset.PatientName = "Changed^Name"
            for element in dataset:  # converts sequences, as the rewriter's walk does
                if element.VR == "SQ":
                    _ = element.value
    # The rewriter always aligns the file meta with the dataset before encoding.
    ours.file_meta.MediaStorageSOPInstanceUID = ours.SOPInstanceUID
    expected = BytesIO()
    reference.save_as(expected, enforce_file_format=True)
    assert encode(ours) == expected.getvalue()


@pytest.mark.parametrize("index", range(len(BLOBS)))
def test_rewritten_shape_identical_to_pydicom(index: int) -> None:
    """What the rewriter hands the encoder: new ASCII values of many VRs and its own file meta."""
    ours, reference = (pydicom.dcmread(BytesIO(BLOBS[index]), force=True) for _ in range(2))
    for dataset in (ours, reference):
        dataset.PatientName = "ANON^5V2K"
        dataset.PatientID = "ANON-5V2K"
        dataset.StudyInstanceUID = "2.25.1234567"  # odd length: NUL padding
        dataset.StudyDate = "20200102"
        dataset.ImageType = ["DERIVED", "SECONDARY", ""]
        dataset.DeidentificationMethod = ["PS3.15 2026c Basic Profile", "anon-consistent 1.0"]
        dataset.InstitutionName = ""
        dataset.StudyDescription = "CT chest"
        codes = []
        for value in ("113100", "113107"):  # new items, as mark_deidentified makes them
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", "Basic Application"
            codes.append(item)
        dataset.DeidentificationMethodCodeSequence = codes
        nested = Dataset()
        nested.ReferencedSOPInstanceUID = "2.25.7"
        nested.ReferencedFrameNumber = "1"  # IS: left to pydicom, inside our sequence
        nested.SpecificCharacterSet = "ISO_IR 100"
        outer = Dataset()
        outer.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        outer.ReferencedImageSequence = [nested]  # an item with its own character set: pydicom's
        dataset.SourceImageSequence = [outer, Dataset()]
        sync_file_meta(dataset)
    expected = BytesIO()
    reference.save_as(expected, enforce_file_format=True)
    assert encode(ours) == expected.getvalue()


def _pydicom_value(element: DataElement, encodings: list[str]) -> bytes:
    """pydicom's encoding of the element, less its header."""
    output = DicomBytesIO()
    output.is_little_endian, output.is_implicit_VR = True, True
    write_data_element(output, element, encodings)
    return output.getvalue()[8:]


TEXT_CASES = [
    ("UI", "1.2.3"),
    ("UI", "1.2.34"),
    ("UI", ["1.2.3", "4.5"]),
    ("CS", ["ORIGINAL", "PRIMARY", "AXIAL"]),
    ("CS", ""),
    ("DA", "20200102"),
    ("TM", "101010.5"),
    ("DT", "20200102101010"),
    ("AS", "045Y"),
    ("AE", "STORESCP"),
    ("LO", "ANON-5V2K"),
    ("LO", ["a", "", "b"]),
    ("SH", "x"),
    ("LT", "line one\r\nline two"),
    ("ST", "odd"),
    ("UT", "text with \\ backslash"),
    ("UC", ["one", "two"]),
    ("UR", "http://example.org/a"),
    ("PN", "ANON^5V2K"),
    ("PN", "Doe^John^^Dr=ideo^graphic"),
    ("PN", ["A^B", "C^D"]),
    ("PN", ""),
]


@pytest.mark.parametrize(
    "encodings", [["ISO_IR 100"], ["ISO_IR 192"], ["ISO 2022 IR 6", "ISO 2022 IR 87"], ["GB18030"]]
)
@pytest.mark.parametrize(("vr", "value"), TEXT_CASES)
def test_text_values_are_written_as_pydicom_writes_them(vr: str, value: object, encodings: list[str]) -> None:
    element = DataElement(0x00100010 if vr == "PN" else 0x00081030, vr, value)
    assert text_value(element) == _pydicom_value(element, encodings)


@pytest.mark.parametrize(
    ("vr", "value"), [("LO", "Zoë"), ("PN", "Müller^Hans"), ("DS", "1.5"), ("IS", "3"), ("US", 3), ("OB", b"ab")]
)
def test_other_values_are_left_to_pydicom(vr: str, value: object) -> None:
    assert text_value(DataElement(0x00081030, vr, value)) is None


def test_a_person_name_read_from_the_file_is_left_to_pydicom() -> None:
    dataset = pydicom.dcmread(BytesIO(BLOBS[3]), force=True)  # CT_small: a PN with its original bytes
    element = dataset["PatientName"]
    assert isinstance(element.value, PersonName) and element.value.original_string is not None
    assert text_value(element) is None
