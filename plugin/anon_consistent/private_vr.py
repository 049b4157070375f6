"""Whether a private element listed as safe really is what Table E.3.10-1 lists.

The table names an attribute by creator and element and gives its VR and VM.
A file may hold anything at that place: a patient name written where Siemens
keeps its diffusion direction (FD) is no diffusion direction, and keeping it
because of where it sits would keep the name. So a listed element is kept only
if it is of the listed kind:

* explicit VR: its VR is the table's (``OW/OB`` accepts either);
* UN (an implicit VR file, or UN in an explicit one, which says no more): its
  bytes must fit the table's VR. Binary VRs need a length that is a multiple of
  the value size and a value count the VM allows; text VRs need the characters
  (and value lengths) of that VR; a sequence must start with an item.

A row without VR (a few table rows, every site-list row) says nothing to check
against, except that a person name is never a safe attribute.
"""

from __future__ import annotations

import re

from .vr import ITEM_TAG_LITTLE_ENDIAN

# Bytes per value of the binary VRs.
_VALUE_SIZE = {"FD": 8, "FL": 4, "US": 2, "SS": 2, "UL": 4, "SL": 4, "SV": 8, "UV": 8, "AT": 4, "OD": 8, "OF": 4}
_VALUE_SIZE.update({"OL": 4, "OV": 8, "OW": 2})
_ANY_BYTES = frozenset({"OB", "UN", "OW/OB"})
# Characters a text VR may hold (PS3.5 6.2), "\" separating values.
_TEXT_CHARACTERS = {
    "IS": r"[0-9+\- ]*",
    "DS": r"[0-9+\-.eE ]*",
    "CS": r"[A-Z0-9_ ]*",
    "UI": r"[0-9.]*",
    "DA": r"[0-9 ]*",
    "TM": r"[0-9.: ]*",
    "DT": r"[0-9.+\- ]*",
    "AS": r"[0-9DWMY ]*",
    "AE": r"[\x20-\x5b\x5d-\x7e]*",
    # Any character but controls (ESC for character set changes).
    "LO": r"[^\x00-\x1a\x1c-\x1f\\]*",
    "SH": r"[^\x00-\x1a\x1c-\x1f\\]*",
    "UC": r"[^\x00-\x1a\x1c-\x1f\\]*",
    # One value that may hold "\", and line breaks.
    "ST": r"[^\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]*",
    "LT": r"[^\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]*",
    "UT": r"[^\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]*",
}
_SINGLE_VALUED = frozenset({"ST", "LT", "UT"})
_PATTERNS = {vr: re.compile(chars) for vr, chars in _TEXT_CHARACTERS.items()}
_MAX_VALUE_LENGTH = {"IS": 12, "DS": 16, "CS": 16, "UI": 64, "DA": 8, "TM": 16, "DT": 26, "AS": 4, "AE": 16}
_MAX_VALUE_LENGTH.update({"LO": 64, "SH": 16})
_VM = re.compile(r"(\d+)(?:-(\d+|n))?")


def explicit_vr_fits(listed_vr: str, vr: str) -> bool:
    """An element read with explicit ``vr`` (not UN) is of the table's ``listed_vr``."""
    if not listed_vr:
        return vr != "PN"
    return vr in listed_vr.split("/")


def un_value_fits(listed_vr: str, listed_vm: str, value: object) -> bool:
    """An element read as UN whose bytes ``value`` could be a value of ``listed_vr`` with ``listed_vm``."""
    if not listed_vr or listed_vr in _ANY_BYTES:
        return True
    if not isinstance(value, (bytes, bytearray)):
        return value is None  # nothing to judge: an empty element
    data = bytes(value)
    if not data:
        return True  # an empty value is always allowed
    if listed_vr == "SQ":
        return data.startswith(ITEM_TAG_LITTLE_ENDIAN)
    size = _VALUE_SIZE.get(listed_vr)
    if size is not None:
        if len(data) % size:
            return False
        return listed_vr.startswith("O") or _vm_allows(listed_vm, len(data) // size)
    pattern = _PATTERNS.get(listed_vr)
    if pattern is None:
        return False  # a VR the table does not use today (PN, UR...): not judged safe
    text = data.decode("latin-1").rstrip("\x00 ")
    values = [text] if listed_vr in _SINGLE_VALUED else text.split("\\")
    longest = _MAX_VALUE_LENGTH.get(listed_vr)
    for part in values:
        if not pattern.fullmatch(part) or (longest is not None and len(part.strip(" ")) > longest):
            return False
    return True


def _vm_allows(vm: str, count: int) -> bool:
    """``count`` values fit VM ``vm`` ("1", "3", "1-n", "0-1", "2-n"...); an unreadable VM allows any."""
    match = _VM.fullmatch(vm)
    if match is None:
        return True
    low, high = int(match.group(1)), match.group(2)
    if high is None:
        return count == low
    return count >= low and (high == "n" or count <= int(high))
