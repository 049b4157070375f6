"""How a request or the configuration names one DICOM tag.

Every place that accepts a tag (Keep, Replace, Remove, presets, each token of
a sequence path) goes through ``parse_tag``, so a form Orthanc accepts in one
place is accepted in all of them.
"""

from __future__ import annotations

import json
import re

from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.tag import BaseTag, Tag

_HEX4 = r"([0-9A-Fa-f]{4})"
# As Orthanc's own ParseTag: "gggg,eeee", "gggg-eeee", "(gggg,eeee)", "ggggeeee", spaces allowed inside.
_TAG_NUMBER = re.compile(rf"\(\s*{_HEX4}\s*[,-]\s*{_HEX4}\s*\)|{_HEX4}\s*[,-]\s*{_HEX4}|{_HEX4}{_HEX4}")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
TAG_FORMS = 'a keyword such as "PatientName" or a number such as "0010,0010", "0010-0010", "(0010,0010)" or "00100010"'
# A private element named without its block ("gggg,xxee" as Table E.3.10-1
# writes it), in the same number forms as a tag.
_BLOCKLESS = rf"{_HEX4}\s*[,-]?\s*[xX]{{2}}([0-9A-Fa-f]{{2}})"
BLOCKLESS_PRIVATE = re.compile(rf"\(\s*{_BLOCKLESS}\s*\)|{_BLOCKLESS}")


class OptionsError(ValueError):
    """The request body (or a configured preset) is not a valid set of options (HTTP 400)."""


def parse_tag(text: str) -> BaseTag:
    """Accept ``PatientName``, ``0010,0010``, ``0010-0010``, ``(0010,0010)`` or ``00100010``, spaces around."""
    cleaned = text.strip()
    if not cleaned:
        raise OptionsError(f"Empty tag name {show(text)}: use {TAG_FORMS}")
    number = _TAG_NUMBER.fullmatch(cleaned)
    if number:
        return Tag(int("".join(digits for digits in number.groups() if digits), 16))
    # tag_for_keyword("") finds (300A,0782), whose keyword is empty: only real keywords are looked up.
    keyword_tag = tag_for_keyword(cleaned) if _KEYWORD.fullmatch(cleaned) else None
    if keyword_tag is None:
        raise OptionsError(f"Unknown DICOM tag {show(text)}: use {TAG_FORMS}")
    return Tag(keyword_tag)


def blockless_private(text: str) -> tuple[int, int] | None:
    """(group, low byte) of ``gggg,xxee`` (or ``gggg-xxee``, ``(gggg,xxee)``, ``ggggxxee``); None if not that form."""
    match = BLOCKLESS_PRIVATE.fullmatch(text.strip())
    if match is None:
        return None
    group, low_byte = (digits for digits in match.groups() if digits)
    return int(group, 16), int(low_byte, 16)


def tag_name(tag: BaseTag) -> str:
    """The keyword, or ``gggg,eeee`` for a tag without one."""
    return keyword_for_tag(tag) or tag_number(tag)


def tag_number(tag: BaseTag) -> str:
    return f"{tag.group:04X},{tag.element:04X}"


def show(value: str, limit: int = 80) -> str:
    """A value quoted as JSON (a newline shows as \\n), cut if long."""
    return json.dumps(value if len(value) <= limit else value[:limit] + "...", ensure_ascii=False)
