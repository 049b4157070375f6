"""Damaged instances are failures that say where and how, and good ones are untouched."""

from __future__ import annotations

import struct

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anon_consistent.damage import locate_damage
from anon_consistent.errors import ElementError, InstanceRewriteError
from anon_consistent.integrity import read_checked
from tests.dicom_data import TEST_FILES, ct_study, encode, read, with_wrong_vr
from tests.engine import OfflineEngine

# pydicom's own warning about the truncated files read here.
pytestmark = pytest.mark.filterwarnings("ignore:End of file reached:UserWarning")

GOOD_FILES = [
    "CT_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "JPEG2000.dcm",
    "MR_small_RLE.dcm",
    "SC_rgb_rle_2frame.dcm",
    "rtstruct.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
]


def without_padding(name: str) -> bytes:
    """The file as Orthanc stores it, minus the trailing padding some test files carry."""
    dataset = read(name)
    if 0xFFFCFFFC in dataset:
        del dataset[0xFFFCFFFC]
    return encode(dataset)


def failure(data: bytes) -> str:
    with pytest.raises(InstanceRewriteError) as error:
        OfflineEngine().run_bytes([data])
    return str(error.value)


@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_files_pass_and_are_anonymized(name: str) -> None:
    data = without_padding(name)
    assert locate_damage(data) is None
    read_checked(data)
    assert OfflineEngine().run([data])[0].PatientIdentityRemoved == "YES"


@pytest.mark.parametrize(("cut", "present"), [(2, 32766), (60, 32708)])
def test_native_pixel_data_cut_short_is_refused(cut: int, present: int) -> None:
    data = without_padding("CT_small.dcm")
    assert failure(data[:-cut]) == f"PixelData (7FE0,0010) declares 32768 bytes, {present} present"


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "MR_small_bigendian.dcm"])
def test_native_pixel_data_cut_in_other_encodings(name: str) -> None:
    assert failure(without_padding(name)[:-60]) == "PixelData (7FE0,0010) declares 8192 bytes, 8132 present"


def test_encapsulated_pixel_data_with_its_last_fragment_cut_is_refused() -> None:
    data = without_padding("JPEG2000.dcm")
    assert failure(data[:-60]) == "PixelData (7FE0,0010) fragment 1 declares 250 bytes, 198 present"
    two_frames = without_padding("SC_rgb_rle_2frame.dcm")
    assert failure(two_frames[:-60]) == "PixelData (7FE0,0010) fragment 2 declares 664 bytes, 612 present"


def test_encapsulated_pixel_data_without_its_sequence_delimiter_is_refused() -> None:
    data = without_padding("MR_small_RLE.dcm")
    assert failure(data[:-2]) == "PixelData (7FE0,0010): its sequence delimiter is cut, 6 of 8 bytes present"
    assert failure(data[:-8]) == "PixelData (7FE0,0010) has no sequence delimiter: the data ends after its fragment 1"


def test_truncated_elements_other_than_pixel_data_are_refused() -> None:
    assert failure((TEST_FILES / "rtplan_truncated.dcm").read_bytes()) == (
        "BeamSequence (300A,00B0) declares 976 bytes, 711 present"
    )
    rtstruct = without_padding("rtstruct.dcm")
    assert failure(rtstruct[:-8]) == (
        "RTROIObservationsSequence (3006,0080) has no sequence delimiter: the data ends after item 3"
    )
    # The data ends 6 bytes into the header of the element after the last whole one.
    assert failure(without_padding("JPEG2000.dcm")[:-500]) == (
        "FrameIncrementPointer (0028,0009) is cut inside its header: 6 of 8 bytes present"
    )


def test_an_element_running_past_the_end_of_its_sequence_is_refused() -> None:
    dataset = ct_study()[0]
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    dataset.ReferencedImageSequence = Sequence([item])
    data = encode(dataset)
    header = b"\x08\x00\x55\x11UI" + struct.pack("<H", 18)
    assert data.count(header) == 1
    damaged = data.replace(header, b"\x08\x00\x55\x11UI" + struct.pack("<H", 40))  # 22 bytes too long
    assert failure(damaged) == (
        "ReferencedImageSequence (0008,1140) > item 1 > ReferencedSOPInstanceUID (0008,1155) "
        "declares 40 bytes, 18 present"
    )


def test_an_unprocessable_value_names_its_attribute_not_the_value() -> None:
    original = ct_study()[0]
    reason = failure(with_wrong_vr(encode(original), original, "StudyInstanceUID"))
    assert reason == (
        "StudyInstanceUID (0020,000D) is encoded with VR FD where UI is expected: its value cannot be processed "
        "(TypeError)"
    )


def test_an_unprocessable_nested_value_names_the_path_to_it() -> None:
    dataset = ct_study()[0]
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    item.is_undefined_length_sequence_item = True  # item lengths survive the shorter value
    dataset.ReferencedImageSequence = Sequence([item])
    dataset["ReferencedImageSequence"].is_undefined_length = True
    with pytest.raises(ElementError) as error:
        OfflineEngine().run_bytes([with_wrong_vr(encode(dataset), item, "ReferencedSOPInstanceUID")])
    assert str(error.value).startswith(
        "ReferencedImageSequence (0008,1140) > item 1 > ReferencedSOPInstanceUID (0008,1155) is encoded with VR FD"
    )


def test_garbage_is_not_described_as_damaged_dicom() -> None:
    assert failure(b"not a dicom file at all, just some text") == (
        "cannot parse DICOM: no DICM prefix and no known first element"
    )


def test_every_cut_of_a_file_is_refused_or_ends_between_elements() -> None:
    """A cut at an element boundary leaves a well-formed file; any other cut is refused."""
    data = without_padding("JPEG2000.dcm")
    body = 1200  # past the file meta and the first elements, through the sequences and pixel data
    for size in range(body, len(data)):
        try:
            read_checked(data[:size])
        except InstanceRewriteError:
            continue
        assert locate_damage(data[:size]) is None, size


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm"])
def test_a_file_cut_right_before_its_pixel_data_is_refused(name: str) -> None:
    dataset = read(name)
    for tag in [t for t in dataset.keys() if t >= 0x7FE00010]:
        del dataset[tag]  # what a cut at the PixelData header leaves: a well-formed file
    data = encode(dataset)
    assert locate_damage(data) is None
    assert failure(data) == "PixelData (7FE0,0010) is missing: the file may be truncated"
    read_checked(data, stop_before_pixels=True)  # pinning Keep/Replace UIDs reads no pixels: no verdict


def test_pixel_data_is_only_required_with_the_image_pixel_module() -> None:
    rtdose = read("rtdose.dcm")  # a DVH-only RT Dose has no Image Pixel module, so no pixels
    for tag in [t for t in rtdose.keys() if t.group == 0x0028 or t >= 0x7FE00010]:
        del rtdose[tag]
    assert OfflineEngine().run([encode(rtdose)])[0].PatientIdentityRemoved == "YES"
    floats = read("CT_small.dcm")  # Float Pixel Data stands in for Pixel Data
    del floats.PixelData
    floats.FloatPixelData = b"\x00" * 8
    assert "FloatPixelData" in OfflineEngine().run([encode(floats)])[0]
