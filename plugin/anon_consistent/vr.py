"""Value representations as the rules see them (PS3.5 Table 6.2-1)."""

from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_VM, dictionary_VR
from pydicom.tag import BaseTag

# How a text value of these VRs becomes a number when it is encoded.
NUMBER_TYPE_BY_VR: dict[str, type] = {
    "US": int, "SS": int, "UL": int, "SL": int, "UV": int, "SV": int, "IS": int,
    "FL": float, "FD": float, "DS": float,
}  # fmt: skip
# Numbers stored in binary (the text VRs IS and DS stay strings).
BINARY_NUMBER_VRS = frozenset(NUMBER_TYPE_BY_VR) - {"IS", "DS"}


@lru_cache(maxsize=4096)
def dictionary_vr(tag: int) -> str:
    """The data dictionary's VR ("UN" for unknown tags), possibly ambiguous ("US or SS")."""
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


@lru_cache(maxsize=4096)
def dictionary_vm(tag: int) -> str | None:
    """The data dictionary's value multiplicity ("1", "1-n", "2-2n"...), None for unknown tags."""
    try:
        return str(dictionary_VM(tag))
    except KeyError:
        return None


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


# (FFFE,E000), an item of a sequence, in little endian: how a sequence stored as UN
# (always implicit VR little endian, PS3.5 6.2.2) starts.
ITEM_TAG_LITTLE_ENDIAN = b"\xfe\xff\x00\xe0"
