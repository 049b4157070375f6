"""dciodvfy (dicom3tools) finds no new IOD error in anonymized files: nothing Type 1/2 is dropped."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anon_consistent.options import parse_options
from anon_consistent.ps315_options import OPTION_NAMES
from tests.dciodvfy import DCIODVFY, iod_errors, new_iod_errors
from tests.dicom_data import encode, encoded, read, rt_study, with_references_and_overlay
from tests.engine import OfflineEngine
from tests.option_data import pet_series, with_identifying_details
from tests.privacy import walk_elements

pytestmark = pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")


def test_anonymized_objects_have_no_new_iod_errors(tmp_path: Path) -> None:
    originals = [*rt_study(), read("test-SR.dcm"), read("liver_1frame.dcm"), read("waveform_ecg.dcm")]
    blobs = [encode(ds) for ds in originals]
    outputs = OfflineEngine().run_bytes(blobs)
    for original, before, after in zip(originals, blobs, outputs, strict=True):
        assert new_iod_errors(before, after, tmp_path) == set(), original.Modality


def empty_sequences(dataset: Dataset) -> list[str]:
    return [e.keyword for _, e in walk_elements(dataset) if e.VR == "SQ" and len(e.value) == 0]  # type: ignore[attr-defined]


def overlay_tags(dataset: Dataset) -> list[int]:
    return [t for t in dataset.keys() if t >> 24 == 0x60]


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "examples_overlay.dcm"])
def test_type_3_sequences_and_overlays_leave_no_partial_module(tmp_path: Path, name: str) -> None:
    original = with_references_and_overlay(read(name))
    before = encode(original)
    (tmp_path / "input.dcm").write_bytes(before)
    about_them = ("ReferencedStudySequence", "ReferencedPatientSequence", "Overlay")
    assert [e for e in iod_errors(tmp_path / "input.dcm") if any(word in e for word in about_them)] == []
    after = OfflineEngine().run_bytes([before])[0]
    assert new_iod_errors(before, after, tmp_path) == set()
    output = pydicom.dcmread(BytesIO(after))
    assert empty_sequences(output) == []
    assert "ReferencedStudySequence" not in output and "ReferencedPatientSequence" not in output
    assert overlay_tags(output) == []  # OverlayData (X) went, and with it the whole overlay
    assert output.PixelData == original.PixelData


def test_an_overlay_whose_data_is_kept_stays_whole(tmp_path: Path) -> None:
    before = encode(with_references_and_overlay(read("CT_small.dcm")))
    after = OfflineEngine().run_bytes([before], parse_options(b'{"Keep": ["60003000"]}'))[0]
    assert new_iod_errors(before, after, tmp_path) == set()
    kept = {t & 0xFFFF for t in overlay_tags(pydicom.dcmread(BytesIO(after)))}
    assert kept == {0x0010, 0x0011, 0x0040, 0x0050, 0x0100, 0x0102, 0x3000}


def test_a_sequence_type_2_where_it_occurs_stays_present_with_zero_items(tmp_path: Path) -> None:
    # ReferencedStudySequence is Type 3 in General Study but Type 2 in the
    # ReferencedRequestSequence of an SR; AcquisitionContextSequence is Type 2.
    sr = read("test-SR.dcm")
    study = Dataset()
    study.ReferencedSOPClassUID, study.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.3.1", "1.2.3.4.5.6.7"
    request = Dataset()
    request.StudyInstanceUID, request.AccessionNumber = sr.StudyInstanceUID, "A1"
    request.ReferencedStudySequence = Sequence([study])
    sr.ReferencedRequestSequence = Sequence([request])
    originals = [sr, read("waveform_ecg.dcm")]
    blobs = [encode(ds) for ds in originals]
    outputs = OfflineEngine().run_bytes(blobs)
    for before, after in zip(blobs, outputs, strict=True):
        assert new_iod_errors(before, after, tmp_path) == set()
    anonymized_sr, ecg = (pydicom.dcmread(BytesIO(out)) for out in outputs)
    assert len(anonymized_sr.ReferencedRequestSequence[0].ReferencedStudySequence) == 0
    assert len(ecg.AcquisitionContextSequence) == 0


_ALL_WITH = {
    dates: [n for n in OPTION_NAMES if n != other]
    for dates, other in (("modified", "RetainLongitudinalFullDates"), ("full", "RetainLongitudinalModifiedDates"))
}


@pytest.mark.parametrize(
    "names",
    [[], ["CleanDescriptors"], ["RetainDeviceIdentity", "RetainPatientCharacteristics"], *_ALL_WITH.values()],
    ids=["basic", "clean-descriptors", "device+patient", "all-modified-dates", "all-full-dates"],
)
def test_ct_mr_pet_rt_seg_sr_have_no_new_iod_errors_with_any_options(tmp_path: Path, names: list[str]) -> None:
    originals = [
        read("CT_small.dcm"),
        read("MR_small.dcm"),
        *pet_series(1),
        *rt_study()[-4:],  # a CT, the RTSTRUCT, RTPLAN and RTDOSE
        read("liver_1frame.dcm"),
        read("test-SR.dcm"),
    ]
    originals = [with_identifying_details(ds) for ds in originals]
    blobs = [encode(ds) for ds in originals]
    options = parse_options(json.dumps({"Options": names}).encode())
    outputs = OfflineEngine().run_bytes(blobs, options)
    for original, before, after in zip(originals, blobs, outputs, strict=True):
        assert new_iod_errors(before, after, tmp_path) == set(), original.Modality


def test_type_3_choices_go_and_type_1_choices_stay_as_dummies() -> None:
    pet, seg = (with_identifying_details(ds) for ds in (pet_series(1)[0], read("liver_1frame.dcm")))
    out_pet, out_seg = OfflineEngine().run(encoded([pet, seg]))
    # StationName and InstitutionName: X/Z/D, Type 3 everywhere: removed, as native Orthanc does
    assert "StationName" not in out_pet and "InstitutionName" not in out_seg
    assert out_pet.SeriesDate == "19000101" and out_pet.SeriesTime == "000000"  # X/D, Type 1 in PET
    assert out_seg.DeviceSerialNumber == "ANONYMIZED"  # X/Z/D, Type 1 in the Enhanced General Equipment of SEG
    assert out_seg.ContentDate == "19000101"  # Z/D, Type 1 in SEG
