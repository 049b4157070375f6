"""Serialize a rewritten dataset, copying untouched elements byte for byte.

pydicom's writer spends ~25 µs per element even when the element is still raw
(unchanged), which made writing the largest cost of a CT instance. Raw
elements of a little-endian file are re-emitted here from their original
value bytes with a header built in one ``struct.pack``; everything pydicom
converted (changed values, walked sequences) and every unusual case
(undefined lengths, big endian, deflate) goes through pydicom's own writer.
So do changed values, except the common ones that need no character set:
strings and UIDs of ASCII text, written here as pydicom would (``text_value``),
and the file meta the rewriter builds (``meta_bytes``): pydicom spent more
time on those few elements than on all the others.
The output is byte-identical to ``Dataset.save_as(enforce_file_format=True)``,
which the unit tests check.
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, PersonName

from .errors import ElementError, element_name

EXPLICIT_VR_LITTLE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE = "1.2.840.10008.1.2"
_LONG_LENGTH_VRS = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
_UNDEFINED = 0xFFFFFFFF
_ITEM_UNDEFINED = struct.pack("<HHL", 0xFFFE, 0xE000, _UNDEFINED)
_ITEM_DELIMITER = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
_SEQUENCE_DELIMITER = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
# VRs whose ASCII values pydicom writes as the text itself, padded to even length
# with a space (a NUL for UI). Any character set encodes ASCII as ASCII.
_PADDING = {vr: b" " for vr in ("AE", "AS", "CS", "DA", "DT", "TM", "UR", "LO", "SH", "LT", "ST", "UT", "UC", "PN")}
_PADDING["UI"] = b"\x00"
# The file meta the rewriter writes (sync_file_meta): these elements, in this order.
_META_TAGS = tuple(BaseTag(t) for t in (0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013))


def encode(dataset: Dataset) -> bytes:
    """Encode ``dataset`` (with its file meta) as a Part 10 file."""
    implicit, little = dataset.original_encoding
    syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
    fast = little and (
        (implicit and syntax == IMPLICIT_VR_LITTLE)
        or (not implicit and syntax not in (IMPLICIT_VR_LITTLE, "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"))
    )
    if not fast:
        output = BytesIO()
        dataset.save_as(output, enforce_file_format=True)
        return output.getvalue()

    parts = [dataset.preamble or b"\x00" * 128, b"DICM", meta_bytes(dataset.file_meta)]
    encodings = dataset._character_set
    elements = dataset._dict
    for tag in sorted(elements):
        _element_parts(dataset, tag, elements[tag], bool(implicit), encodings, parts)
    return b"".join(parts)


def _element_parts(
    dataset: Dataset,
    tag: BaseTag,
    element: DataElement | RawDataElement,
    implicit: bool,
    encodings: str | list[str],
    parts: list[bytes],
) -> None:
    """Append the encoding of one element: ours where it is plain, pydicom's otherwise."""
    if isinstance(element, RawDataElement) and element.length != _UNDEFINED and element.value is not None:
        parts.append(_raw_header(element, implicit))
        parts.append(element.value)
        return
    if isinstance(element, DataElement):
        value = text_value(element) if element.VR != "SQ" else _sequence_value(element, implicit, encodings)
        if value is not None:
            undefined = element.VR == "SQ" and element.is_undefined_length
            parts.append(_header(tag, element.VR, _UNDEFINED if undefined else len(value), implicit))
            parts.append(value)
            if undefined:
                parts.append(_SEQUENCE_DELIMITER)
            return
    body = DicomBytesIO()
    body.is_little_endian = True
    body.is_implicit_VR = implicit
    try:
        write_data_element(body, dataset.get_item(tag), encodings)
    except Exception as error:  # pydicom raises many types on values it cannot write
        raise ElementError(element_name(tag), f"cannot be encoded ({type(error).__name__})") from error
    parts.append(body.getvalue())


def _sequence_value(element: DataElement, implicit: bool, encodings: str | list[str]) -> bytes | None:
    """The items of a sequence, as pydicom's ``write_sequence`` writes them; None: leave it to pydicom.

    pydicom re-encodes an item whose encoding or character set differs from
    what it was read with; such items (and items with a character set of
    their own) go to pydicom, which is the reference.
    """
    parts: list[bytes] = []
    for item in element.value:
        if not _plain_item(item, implicit):
            return None
        content: list[bytes] = []
        elements = item._dict
        for tag in sorted(elements):
            if tag & 0xFFFF == 0 and tag >> 16 > 6:
                continue  # retired group lengths are not written (PS3.5 7.2)
            _element_parts(item, tag, elements[tag], implicit, encodings, content)
        body = b"".join(content)
        if getattr(item, "is_undefined_length_sequence_item", False):
            parts += [_ITEM_UNDEFINED, body, _ITEM_DELIMITER]
        else:
            parts += [struct.pack("<HHL", 0xFFFE, 0xE000, len(body)), body]
    return b"".join(parts)


def _plain_item(item: Dataset, implicit: bool) -> bool:
    """An item pydicom writes element by element, exactly as read or as set."""
    if 0x00080005 in item._dict:
        return False
    if item.original_encoding == (implicit, True):
        return bool(item.original_character_set == item._character_set)
    # Made by the rewriter: pydicom corrects ambiguous VRs and converts raw
    # elements first; with neither, it writes the elements as they are.
    return all(isinstance(e, DataElement) and e.VR and " or " not in e.VR for e in item._dict.values())


def text_value(element: DataElement) -> bytes | None:
    """The encoded value of a string or UID element of ASCII text, as pydicom writes it; None: not such a one.

    A PersonName read from the file keeps its original bytes, which pydicom
    writes instead of its text: only a name set from text qualifies.
    """
    padding = _PADDING.get(element.VR)
    value = element.value
    if padding is None:
        return None
    if value is None or value == "":
        return b""
    texts = []
    for part in value if isinstance(value, MultiValue | list | tuple) else (value,):
        if isinstance(part, PersonName) and part.original_string is None and element.VR == "PN":
            texts.append(str(part))
        elif isinstance(part, str) and element.VR != "PN":
            texts.append(part)
        else:
            return None
    text = "\\".join(texts)
    if not text.isascii():
        return None
    encoded = text.encode("ascii")
    if len(encoded) % 2:
        encoded += padding
    if len(encoded) > 0xFFFF and element.VR not in _LONG_LENGTH_VRS:
        return None  # pydicom writes it as UN, with a warning
    return encoded


def meta_bytes(meta: FileMetaDataset) -> bytes:
    """The file meta group with its group length, as ``write_file_meta_info(enforce_standard=True)`` writes it."""
    elements = meta._dict
    parts = []
    if tuple(sorted(elements)) == _META_TAGS:
        for tag in _META_TAGS:
            element = elements[tag]
            if not isinstance(element, DataElement) or not element.VR:
                break
            value = element.value if tag == 0x00020001 else text_value(element)
            if not isinstance(value, bytes) or len(value) % 2:
                break
            parts += [_header(tag, element.VR, len(value), False), value]
        else:
            group = b"".join(parts)
            return struct.pack("<HH2sHL", 2, 0, b"UL", 4, len(group)) + group
    output = DicomBytesIO()
    write_file_meta_info(output, meta, enforce_standard=True)
    return output.getvalue()


def _header(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    if implicit:
        return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, length)
    if vr in _LONG_LENGTH_VRS:
        return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr.encode("ascii"), 0, length)
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)


def _raw_header(element: RawDataElement, implicit: bool) -> bytes:
    tag = element.tag
    length = len(element.value)  # type: ignore[arg-type]
    if implicit:
        return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, length)
    vr = element.VR or "UN"
    if vr in _LONG_LENGTH_VRS:
        return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr.encode("ascii"), 0, length)
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)
