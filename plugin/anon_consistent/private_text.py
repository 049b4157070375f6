"""UIDs and dates in kept private values, found by their shape, not their VR.

A private element's VR says little: an implicit VR file has none (every
private element reads as UN), and vendors store dates in IS, DS, LO or CS as
readily as in DA. So with ``KeepPrivateTags`` every private text value is
judged by its shape: a value that is a UID gets its mapped UID, and with
``ShiftDates`` every date-shaped token is shifted by the patient's offset,
since one real date beside shifted ones reveals the offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .dates import shift_da, shift_dt
from .uid_policy import is_registry_uid
from .uids import is_valid_uid

# Longer values (vendor blobs read as UN, long reports) are not scanned.
MAX_SCANNED_PRIVATE_TEXT = 1024
# Private VRs whose value is text, scanned like UN. The binary VRs (OB, OW, OD,
# OF, OL, OV, FL, FD, SS, US, SL, UL, SV, UV, AT) are kept as they are.
SCANNED_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT"}
)
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
# A whole token: between the value's ends, a backslash, whitespace or NUL, so
# that digits inside a UID or a longer number are never taken for a date.
_DATE_TOKEN = re.compile(
    r"(?<![^\s\x00\\])(?:"
    # DA or DT: YYYYMMDD[HH[MM[SS[.F{1,6}]]]][+/-ZZXX]
    rf"(?P<da>(?:19|20)\d\d{_MONTH}{_DAY})(?:\d\d(?:\d\d(?:\d\d(?:\.\d{{1,6}})?)?)?)?(?:[+-]\d{{4}})?"
    # ISO 8601 basic: YYYYMMDDTHH[MM[SS[.F]]][Z|+/-HH[MM]]
    r"(?:T\d\d(?:\d\d(?:\d\d(?:\.\d+)?)?)?(?:Z|[+-]\d\d(?:\d\d)?)?)?"
    # Year first with separators, as ISO 8601: YYYY-MM-DD[THH:MM[:SS[.F]][Z|+/-HH[:]MM]],
    # or YYYY/MM/DD, YYYY.MM.DD, and EXIF's YYYY:MM:DD (its time follows after a
    # space, a token of its own). Day-first or month-first forms are ambiguous.
    rf"|(?P<iso>(?:19|20)\d\d(?P<sep>[-/.:]){_MONTH}(?P=sep){_DAY})"
    r"(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
    r")(?![^\s\x00\\])"
)


def scrub_private_text(text: str, new_uid: Callable[[str], str], offset_days: Callable[[], int] | None) -> str:
    """``text`` with UID values remapped and, given ``offset_days``, date tokens shifted.

    A UID must be a whole value (between backslashes; padding aside). A date
    is any date-shaped token, so "X\\20230101" and "scan 2023-01-01" are
    shifted too; a token that is no real date (20230231) is left alone. A
    shifted token keeps its length and form, so IS (12) and DS (16) limits
    still hold.
    """
    values = text.split("\\")
    for index, value in enumerate(values):
        stripped = value.strip(" \x00")
        if stripped.count(".") >= 3 and is_valid_uid(stripped) and not is_registry_uid(stripped):
            values[index] = new_uid(stripped)
    text = "\\".join(values)
    if offset_days is None:
        return text
    return _DATE_TOKEN.sub(lambda match: _shifted(match, offset_days()), text)


def _shifted(match: re.Match[str], days: int) -> str:
    token = match.group(0)
    if match.group("da") is not None:
        return shift_dt(token, days) or token
    sep = match.group("sep")
    shifted = shift_da(match.group("iso").replace(sep, ""), days)
    return f"{shifted[:4]}{sep}{shifted[4:6]}{sep}{shifted[6:]}{token[10:]}" if shifted else token
