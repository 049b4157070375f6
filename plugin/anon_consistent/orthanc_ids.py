"""Orthanc's identifiers of an instance and its parents, computed from the DICOM data as Orthanc does.

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
from pydicom.multival import MultiValue

from .results import OrthancIds

_IDENTITY = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def orthanc_instance_id(patient_id: str, study_uid: str, series_uid: str, sop_instance_uid: str) -> str:
    """The Orthanc ID of an instance with these four values."""
    return _hashed((patient_id, study_uid, series_uid, sop_instance_uid))


def orthanc_ids(patient_id: str, study_uid: str, series_uid: str, sop_instance_uid: str) -> OrthancIds:
    """The Orthanc IDs of an instance and of its parents: each level hashes the values down to it."""
    values = (patient_id, study_uid, series_uid, sop_instance_uid)
    return OrthancIds(*(_hashed(values[:depth]) for depth in (1, 2, 3, 4)))


def _hashed(values: tuple[str, ...]) -> str:
    # Orthanc drops trailing padding only: " P1" and "P1" are two patients.
    digest = hashlib.sha1("|".join(v.rstrip(" \x00") for v in values).encode("utf-8")).hexdigest()
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def identity_of(data: bytes) -> tuple[str, str, str, str]:
    """PatientID and the study, series and instance UIDs of an encoded instance (only these are read)."""
    dataset = dcmread(BytesIO(data), force=True, stop_before_pixels=True, specific_tags=list(_IDENTITY))
    patient, study, series, sop = (_text(dataset.get(keyword, "")) for keyword in _IDENTITY)
    return patient, study, series, sop


def _text(value: object) -> str:
    """A value as Orthanc reads it: several values joined by a backslash."""
    if isinstance(value, (list, MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value or "")


def instance_id_of(data: bytes) -> str:
    """The Orthanc ID ``data`` would get when stored."""
    return orthanc_instance_id(*identity_of(data))


def same_identity(first: bytes, second: bytes) -> bool:
    """Whether two encoded instances carry the same four identifying values, so one Orthanc ID.

    Compared as read, not hashed: a value whose characters decode differently
    here and in Orthanc (an invalid byte for its character set) still
    compares equal to itself.
    """
    return [v.rstrip(" \x00") for v in identity_of(first)] == [v.rstrip(" \x00") for v in identity_of(second)]
