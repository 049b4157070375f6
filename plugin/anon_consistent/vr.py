"""Value representations as the rules see them (PS3.5 Table 6.2-1)."""

from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_VR
from pydicom.tag import BaseTag

# How a text value of these VRs becomes a number when it is encoded.
NUMBER_TYPE_BY_VR: dict[str, type] = {
    "US": int, "SS": int, "UL": int, "SL": int, "UV": int, "SV": int, "IS": int,
    "FL": float, "FD": float, "DS": float,
}  # fmt: skip
# Numbers stored in binary (the text VRs IS and DS stay strings).
BINARY_NUMBER_VRS = frozenset(NUMBER_TYPE_BY_VR) - {"IS", "DS"}
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "AT"})
# Maximum lengths (PN: per component group).
TEXT_LIMITS = {"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64, "PN": 64, "SH": 16,
               "TM": 14}  # fmt: skip


@lru_cache(maxsize=4096)
def dictionary_vr(tag: int) -> str:
    """The data dictionary's VR ("UN" for unknown tags), possibly ambiguous ("US or SS")."""
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def element_vr(tag: BaseTag, raw_vr: str | None) -> str:
    """The VR that decides an element's fate: the dictionary's for standard tags.

    An explicit VR in the file can be wrong (a StudyDate written as SH) or UN;
    deciding on it would let such an element dodge its rule.
    """
    if tag.is_private:
        return raw_vr or "UN"
    known = dictionary_vr(int(tag))
    if known == "UN":
        return raw_vr or "UN"
    if " or " in known:  # "US or SS", "OB or OW": the file says which
        return raw_vr if raw_vr and raw_vr != "UN" else known.split(" or ")[0]
    return known
