"""Whether a Replace value can be written in the instance's character set (PS3.5 6.1).

pydicom's writer, its value validation switched off, writes a character the
instance's SpecificCharacterSet (0008,0005) cannot hold as "?": a replaced
PatientName would silently become "??^??". Such an instance fails instead,
with a reason naming the attribute and the character set, never the value.

Switching the output to ISO_IR 192 (UTF-8) is not done: the encoder copies
unchanged text byte for byte in the source's character set, so every text
element, private ones whose VR is unknown included, would have to be decoded
and re-encoded, and a private text in a character set it did not declare
would be silently corrupted.
"""

from __future__ import annotations

from functools import lru_cache

from pydicom.charset import convert_encodings, custom_encoders
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

# The VRs whose values are in the Specific Character Set; the others hold the
# default repertoire only, which the options check refuses with a 400.
TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "PN", "UC", "UT"})
SPECIFIC_CHARACTER_SET = 0x00080005
# pydicom reads the default repertoire as Latin-1; PS3.5 6.1.2.1 says ASCII.
_DEFAULT_REPERTOIRE = frozenset({"", "ISO_IR 6", "ISO 2022 IR 6"})


def declared_character_set(dataset: Dataset) -> tuple[str, ...] | None:
    """The SpecificCharacterSet terms of ``dataset``; None if it does not declare one."""
    if SPECIFIC_CHARACTER_SET not in dataset._dict:
        return None
    value = dataset[SPECIFIC_CHARACTER_SET].value
    if isinstance(value, (list, MultiValue)):
        return tuple(str(term).strip() for term in value)
    return (str(value or "").strip(),)


def unwritable_problem(vr: str, text: str, terms: tuple[str, ...]) -> str | None:
    """Why ``text`` cannot be written in character set ``terms``, without the value; None if it can."""
    if vr not in TEXT_VRS or text.isascii():
        return None
    encodings = _python_encodings(terms)
    if all(any(_encodes(character, encoding) for encoding in encodings) for character in set(text)):
        return None
    declared = "\\".join(terms) if any(terms) else "none, the default repertoire (ASCII)"
    return (
        "Replace value has characters that the instance's character set cannot hold "
        f"(SpecificCharacterSet (0008,0005): {declared})"
    )


@lru_cache(maxsize=64)
def _python_encodings(terms: tuple[str, ...]) -> tuple[str, ...]:
    encodings = convert_encodings(list(terms) or [""])
    if not terms or terms[0] in _DEFAULT_REPERTOIRE:
        encodings[0] = "ascii"
    return tuple(encodings)


def _encodes(character: str, encoding: str) -> bool:
    try:
        encoder = custom_encoders.get(encoding)
        if encoder is not None:
            encoder(character, errors="strict")
        else:
            character.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True
