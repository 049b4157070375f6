"""Orthanc's identifier of an instance, computed from the DICOM data as Orthanc does.

Orthanc names an instance by the SHA-1 of "PatientID|StudyInstanceUID|
SeriesInstanceUID|SOPInstanceUID" (values without their padding), written as
five groups of eight hex digits. Two files with the same four values are one
instance to Orthanc: storing the second keeps the first or, with
"OverwriteInstances", replaces it.
"""

from __future__ import annotations

import hashlib
from io import BytesIO

from pydicom import dcmread

_IDENTITY = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def orthanc_instance_id(patient_id: str, study_uid: str, series_uid: str, sop_instance_uid: str) -> str:
    """The Orthanc ID of an instance with these four values."""
    values = (patient_id, study_uid, series_uid, sop_instance_uid)
    digest = hashlib.sha1("|".join(v.strip(" \x00") for v in values).encode("utf-8")).hexdigest()
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def instance_id_of(data: bytes) -> str:
    """The Orthanc ID ``data`` would get when stored (reads only the four values)."""
    dataset = dcmread(BytesIO(data), force=True, stop_before_pixels=True, specific_tags=list(_IDENTITY))
    return orthanc_instance_id(*(str(dataset.get(keyword, "") or "") for keyword in _IDENTITY))
