"""Entry script loaded by Orthanc ("PythonScript" in orthanc.json).

Orthanc embeds /usr/bin/python3.11, so the plugin's dependencies (pydicom) come
from the repository's virtual environment made by ``make deps`` from that same
interpreter. Paths are found from this file, so no environment variable is needed.
"""

import glob
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(_HERE)
sys.path[:0] = [_HERE, *sorted(glob.glob(os.path.join(_REPO, ".venv", "lib", "python3.*", "site-packages")))]

import orthanc  # noqa: E402  (only importable inside Orthanc)

from anon_consistent.adapter import register  # noqa: E402

register(orthanc)
