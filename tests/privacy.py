"""What counts as an original identifying value, and the check that none survives."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pydicom.dataset import Dataset

from anon_consistent.uid_policy import is_registry_uid, keeps_uid_attribute


def walk_elements(dataset: Dataset) -> Iterator[tuple[Dataset, object]]:
    for element in dataset:
        yield dataset, element
        if element.VR == "SQ":
            for item in element.value:
                yield from walk_elements(item)


def uid_values(dataset: Dataset) -> set[str]:
    """Every instance-identifying UID of a dataset, at any depth (class UIDs excluded)."""
    found: set[str] = set()
    for _, element in walk_elements(dataset):
        if element.VR == "UI" and not keeps_uid_attribute(element.tag):  # type: ignore[attr-defined]
            values = element.value if isinstance(element.value, list) else [element.value]  # type: ignore[attr-defined]
            found.update(str(v) for v in values if v and not is_registry_uid(str(v)))
    return found


def identifying_values(dataset: Dataset) -> set[str]:
    """UIDs plus the patient's name and ID, the values that must never survive."""
    values = uid_values(dataset)
    for keyword in ("PatientName", "PatientID"):
        value = str(dataset.get(keyword, "") or "")
        values.update(part for part in value.replace("^", " ").split() if len(part) >= 3)
    return values


def leaked(outputs: Iterable[bytes], originals: Iterable[Dataset]) -> dict[str, int]:
    """Original identifying values found anywhere in the output bytes, with a count."""
    needles: set[str] = set()
    for original in originals:
        needles |= identifying_values(original)
    blobs = list(outputs)
    found = {}
    for needle in needles:
        # Whole tokens only: "1.2.3" inside "1.2.3.4" (say, a root shared with
        # pydicom's own ImplementationClassUID) is not that value.
        pattern = re.compile(rb"(?<![0-9.])" + re.escape(needle.encode("ascii", "ignore")) + rb"(?![0-9.])")
        count = sum(len(pattern.findall(blob)) for blob in blobs)
        if count:
            found[needle] = count
    return found


# Values a check looks for, grouped by the option that keeps them by definition (None: no option does).
_TEXT_KEEPERS: dict[str | None, tuple[str, ...]] = {
    None: ("PatientID", "OtherPatientIDs", "AccessionNumber", "PatientBirthDate"),
    "RetainInstitutionIdentity": ("InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName"),
    "RetainDeviceIdentity": ("StationName", "DeviceSerialNumber"),
    "RetainLongitudinalFullDates": ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"),
}
_NAMES = ("PatientName", "ReferringPhysicianName", "OperatorsName")


def values_to_protect(dataset: Dataset, options: Iterable[str] = ()) -> set[str]:
    """The identifying values of ``dataset`` that must not survive a call with ``options``.

    Every name component (3 characters or more) of the patient and the staff,
    the patient's IDs, accession number and birth date always; UIDs unless
    RetainUIDs; institution, device identity and the study's dates unless the
    option that keeps them by definition was asked for.
    """
    requested = set(options)
    values = set() if "RetainUIDs" in requested else uid_values(dataset)
    for keeper, keywords in _TEXT_KEEPERS.items():
        if keeper is None or keeper not in requested:
            values.update(str(dataset.get(k, "") or "") for k in keywords)
    for keyword in _NAMES:
        name = str(dataset.get(keyword, "") or "")
        values.update(part for part in re.split(r"[\^ ]+", name) if len(part) >= 3)
    return {value for value in values if value}


def surviving(outputs: Iterable[bytes], originals: Iterable[Dataset], options: Iterable[str] = ()) -> dict[str, int]:
    """``values_to_protect`` found in the output bytes, matched whole and ignoring case, with a count."""
    requested = list(options)
    needles = set().union(*(values_to_protect(o, requested) for o in originals))
    blobs = list(outputs)
    found = {}
    for needle in needles:
        pattern = re.compile(
            rb"(?<![0-9A-Za-z.])" + re.escape(needle.encode("latin-1", "ignore")) + rb"(?![0-9A-Za-z.])", re.IGNORECASE
        )
        count = sum(len(pattern.findall(blob)) for blob in blobs)
        if count:
            found[needle] = count
    return found
