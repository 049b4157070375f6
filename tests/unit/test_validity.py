"""dciodvfy (dicom3tools) finds no new IOD error in anonymized files: nothing Type 1/2 is dropped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.dicom_data import encode, read, rt_study
from tests.engine import OfflineEngine

DCIODVFY = shutil.which("dciodvfy")
pytestmark = pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")


def iod_errors(path: Path) -> set[str]:
    result = subprocess.run([str(DCIODVFY), str(path)], capture_output=True, text=True, check=False)
    lines = (result.stdout + result.stderr).splitlines()
    # UIDs differ by construction; the kind of error is what must not be new.
    return {re.sub(r"[0-9]+(\.[0-9]+)+", "<uid>", line) for line in lines if line.startswith("Error")}


def test_anonymized_objects_have_no_new_iod_errors(tmp_path: Path) -> None:
    originals = [*rt_study(), read("test-SR.dcm"), read("liver_1frame.dcm")]
    blobs = [encode(ds) for ds in originals]
    outputs = OfflineEngine().run_bytes(blobs)
    for index, (before, after) in enumerate(zip(blobs, outputs, strict=True)):
        (tmp_path / f"in{index}.dcm").write_bytes(before)
        (tmp_path / f"out{index}.dcm").write_bytes(after)
        new_errors = iod_errors(tmp_path / f"out{index}.dcm") - iod_errors(tmp_path / f"in{index}.dcm")
        assert new_errors == set(), (originals[index].Modality, new_errors)
