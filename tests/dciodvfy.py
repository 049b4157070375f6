"""dciodvfy (Debian dicom3tools): the IOD errors of a file, comparable before and after anonymization."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

DCIODVFY = shutil.which("dciodvfy")


def iod_errors(path: Path) -> set[str]:
    assert DCIODVFY is not None
    result = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, errors="replace", check=False)
    lines = (result.stdout + result.stderr).splitlines()
    # UIDs differ by construction; the kind of error is what must not be new.
    return {re.sub(r"[0-9]+(\.[0-9]+)+", "<uid>", line) for line in lines if line.startswith("Error")}


def new_iod_errors(before: bytes, after: bytes, directory: Path) -> set[str]:
    """Errors dciodvfy reports for ``after`` that it does not report for ``before``."""
    (directory / "before.dcm").write_bytes(before)
    (directory / "after.dcm").write_bytes(after)
    return iod_errors(directory / "after.dcm") - iod_errors(directory / "before.dcm")
