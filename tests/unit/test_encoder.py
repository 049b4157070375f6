"""The fast encoder is byte-identical to pydicom's writer."""

from __future__ import annotations

from io import BytesIO

import pydicom
import pytest

from anon_consistent.encoder import encode
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
