"""Whether a text value can be stored in an element of a given VR and VM (PS3.5 6.2 and 6.4).

A ``Replace`` value that does not fit is the caller's mistake: it must be
refused with a clear 400 before any instance is touched, not discovered by
pydicom's writer halfway through a study (a 500), nor stored as invalid DICOM.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable

from .uids import is_valid_uid

_INTEGER_RANGES = {
    "US": (0, 2**16 - 1), "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1), "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1), "SV": (-(2**63), 2**63 - 1),
    "IS": (-(2**31), 2**31 - 1),
}  # fmt: skip
_FLOAT_LIMITS = {"FL": 3.4028234663852886e38, "FD": 1.7976931348623157e308}
# Maximum length of one value, in characters (PN: of each component group).
MAX_LENGTHS = {
    "AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64, "LT": 10240, "PN": 64,
    "SH": 16, "ST": 1024, "TM": 14, "UC": 2**32 - 2, "UI": 64, "UR": 2**32 - 2, "UT": 2**32 - 2,
}  # fmt: skip
# In these VRs a backslash is text, not a value separator: their VM is always 1.
SINGLE_VALUED_VRS = frozenset({"LT", "ST", "UT", "UR"})

_INTEGER = re.compile(r" *[+-]?[0-9]+ *")
_DECIMAL = re.compile(r" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *")
_TIME = re.compile(r"([01][0-9]|2[0-3])(?:([0-5][0-9])(?:([0-5][0-9]|60)(\.[0-9]{1,6})?)?)? *")
_DATE_TIME = re.compile(
    r"([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(\.[0-9]{1,6})?)?)?)?)?)?"
    r"(?:([+-])([0-9]{2})([0-9]{2}))? *"
)
_AGE = re.compile(r"[0-9]{3}[DWMY]")
_CODE = re.compile(r"[A-Z0-9 _]*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_URI = re.compile(r"[A-Za-z0-9_:/?#\[\]@!$&'()*+,;=%\-.~]* *")
# Control characters: none in short texts except ESC (character set escapes);
# the long texts also keep TAB, LF, FF and CR (PS3.5 6.1.3).
_SHORT_TEXT_CONTROL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")
_LONG_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def value_problem(vr: str, vm: str | None, text: str) -> str | None:
    """Why ``text`` cannot be the value of an element with this VR and VM, or None if it can.

    ``vr`` may be ambiguous ("US or SS"): the value must fit one of them,
    since each file says which applies. ``vm`` is the dictionary's ("1",
    "2-2n", ...), None to skip that check. The problem reads as the end of
    "<attribute> ...", e.g. "must be an integer from 0 to 65535 for VR US".
    """
    if text == "":
        return None  # an empty value fits every VR and VM
    values = [text] if vr in SINGLE_VALUED_VRS else text.split("\\")
    if vm is not None and not _vm_allows(vm, len(values)):
        return f'must have {_vm_text(vm)} separated by "\\" (VM {vm}), not {len(values)}'
    check = _PROBLEM_BY_VR.get(vr, _integer_problem)  # "US or SS": the union of both ranges
    for position, value in enumerate(values, start=1):
        problem = check(vr, value)
        if problem and len(values) > 1:
            shown = json.dumps(value, ensure_ascii=False)
            return f"{problem} for VR {vr} (value {position} of {len(values)}: {shown})"
        if problem:
            return f"{problem} for VR {vr}"
    return None


def supported(vr: str) -> bool:
    """True if this module knows what text values of ``vr`` look like (binary VRs and SQ have none)."""
    return vr in _PROBLEM_BY_VR or all(alternative in _INTEGER_RANGES for alternative in vr.split(" or "))


def _vm_allows(vm: str, count: int) -> bool:
    low_text, _, high_text = vm.partition("-")
    low = int(low_text)
    if not high_text:
        return count == low
    if high_text == "n":
        return count >= low
    if high_text.endswith("n"):  # "2-2n": a multiple of 2
        step = int(high_text[:-1])
        return count >= low and count % step == 0
    return low <= count <= int(high_text)


def _vm_text(vm: str) -> str:
    low, _, high = vm.partition("-")
    if not high:
        return f"exactly {low} value{'s' if low != '1' else ''}"
    if high == "n":
        return f"at least {low} value{'s' if low != '1' else ''}"
    if high.endswith("n"):
        return f"a multiple of {high[:-1]} values"
    return f"from {low} to {high} values"


def _integer_problem(vr: str, value: str) -> str | None:
    """Integers of one or more integer VRs ("US or SS" accepts their union)."""
    ranges = [_INTEGER_RANGES[v] for v in vr.split(" or ")]
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    # The length test keeps int() away from its digit limit (a ValueError).
    if _INTEGER.fullmatch(value) and len(value) <= 40 and low <= int(value) <= high:
        return None
    return f"must be an integer from {low} to {high}"


def _float_problem(vr: str, value: str) -> str | None:
    limit = _FLOAT_LIMITS[vr]
    if _DECIMAL.fullmatch(value) and math.isfinite(number := float(value)) and abs(number) <= limit:
        return None
    return f"must be a decimal number from {-limit:g} to {limit:g}"


def _is_problem(vr: str, value: str) -> str | None:
    low, high = _INTEGER_RANGES["IS"]
    if _INTEGER.fullmatch(value) and len(value) <= MAX_LENGTHS["IS"] and low <= int(value) <= high:
        return None
    return f"must be an integer string of at most 12 characters from {low} to {high}"


def _ds_problem(vr: str, value: str) -> str | None:
    if _DECIMAL.fullmatch(value) and len(value) <= MAX_LENGTHS["DS"] and math.isfinite(float(value)):
        return None
    return "must be a decimal string of at most 16 characters such as -12.5 or 1.5e-3"


def _da_problem(vr: str, value: str) -> str | None:
    if re.fullmatch(r"[0-9]{8}", value) and _valid_date(value[:4], value[4:6], value[6:]):
        return None
    return "must be a valid date YYYYMMDD such as 20240131"


def _tm_problem(vr: str, value: str) -> str | None:
    if _TIME.fullmatch(value) and len(value) <= MAX_LENGTHS["TM"]:
        return None
    return "must be a valid time HH[MM[SS[.FFFFFF]]] such as 1430 or 143000.25"


def _dt_problem(vr: str, value: str) -> str | None:
    shape = _DATE_TIME.fullmatch(value)
    if shape and len(value) <= MAX_LENGTHS["DT"]:
        year, month, day, hour, minute, second, _, sign, offset_hours, offset_minutes = shape.groups()
        offset = int(sign + offset_hours + offset_minutes) if sign else 0  # &ZZXX: -1200 to +1400
        if (
            _valid_date(year, month or "01", day or "01")
            and int(hour or 0) <= 23
            and int(minute or 0) <= 59
            and int(second or 0) <= 60
            and (not sign or int(offset_minutes) <= 59)
            and -1200 <= offset <= 1400
        ):
            return None
    return "must be a valid date-time YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][+/-ZZXX] such as 20240131143000+0100"


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _as_problem(vr: str, value: str) -> str | None:
    return None if _AGE.fullmatch(value) else "must be an age of 3 digits and D, W, M or Y such as 045Y"


def _cs_problem(vr: str, value: str) -> str | None:
    if _CODE.fullmatch(value) and len(value) <= MAX_LENGTHS["CS"]:
        return None
    return "must be at most 16 characters among A-Z, 0-9, space and underscore"


def _ae_problem(vr: str, value: str) -> str | None:
    if _PRINTABLE_ASCII.fullmatch(value) and len(value) <= MAX_LENGTHS["AE"]:
        return None
    return "must be at most 16 printable ASCII characters"


def _ui_problem(vr: str, value: str) -> str | None:
    return None if is_valid_uid(value) else "must be a valid UID (digits and dots, at most 64 characters)"


def _ur_problem(vr: str, value: str) -> str | None:
    return None if _URI.fullmatch(value) else "must be a URI without spaces or backslashes"


def _pn_problem(vr: str, value: str) -> str | None:
    groups = value.split("=")
    if _SHORT_TEXT_CONTROL.search(value):
        return "must not contain control characters such as a newline"
    if len(groups) > 3 or any(group.count("^") > 4 for group in groups):
        return 'must have at most 3 component groups separated by "=" of at most 5 components separated by "^"'
    if any(len(group) > MAX_LENGTHS["PN"] for group in groups):
        return "must have at most 64 characters in each component group"
    return None


def _text_problem(vr: str, value: str) -> str | None:
    control = _LONG_TEXT_CONTROL if vr in SINGLE_VALUED_VRS else _SHORT_TEXT_CONTROL
    if control.search(value):
        return "must not contain control characters" + ("" if control is _LONG_TEXT_CONTROL else " such as a newline")
    if len(value) > MAX_LENGTHS[vr]:
        return f"must be at most {MAX_LENGTHS[vr]} characters long"
    return None


_PROBLEM_BY_VR: dict[str, Callable[[str, str], str | None]] = {
    **dict.fromkeys(("US", "SS", "UL", "SL", "UV", "SV"), _integer_problem),
    **dict.fromkeys(("FL", "FD"), _float_problem),
    **dict.fromkeys(("LO", "LT", "SH", "ST", "UC", "UT"), _text_problem),
    "IS": _is_problem, "DS": _ds_problem, "DA": _da_problem, "TM": _tm_problem, "DT": _dt_problem,
    "AS": _as_problem, "CS": _cs_problem, "AE": _ae_problem, "UI": _ui_problem, "UR": _ur_problem,
    "PN": _pn_problem,
}  # fmt: skip
