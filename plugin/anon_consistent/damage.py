"""Where a damaged DICOM file goes wrong, found by scanning its element headers.

Used only once an instance has failed: it visits every element header of the
file (values are skipped, not read), so it costs a fraction of a parse. It
names the first element that does not fit in its container, with the bytes
it declares and the bytes present, through nested sequences and the items of
encapsulated pixel data.
"""

from __future__ import annotations

import struct

from pydicom.datadict import dictionary_VR, keyword_for_tag

from .errors import element_name

UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
SEQUENCE_END_LITTLE = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
SEQUENCE_END_BIG = b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_IMPLICIT_LITTLE, _EXPLICIT_BIG, _DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"


class _Damage(Exception):
    """Raised by the scanner with the located problem as its message."""


def looks_like_dicom(data: bytes) -> bool:
    """A DICM prefix, or a first element the dictionary knows (files without meta exist)."""
    if data[128:132] == b"DICM":
        return True
    if len(data) < 8:
        return False
    return any(bool(keyword_for_tag(unpack_item(data, 0, endian)[0])) for endian in "<>")


def locate_damage(data: bytes) -> str | None:
    """The first element of ``data`` that claims more bytes than its container holds, described."""
    if not looks_like_dicom(data):
        return None  # garbage read with force=True: its "elements" mean nothing
    try:
        start, syntax = _body_start(data)
        if syntax == _DEFLATED:
            return None
        if syntax is None:  # no file meta: as pydicom guesses, explicit VR if a VR is there
            syntax = "" if data[start + 4 : start + 6].isalpha() else _IMPLICIT_LITTLE
        scanner = _Scanner(data, implicit=syntax == _IMPLICIT_LITTLE, endian=">" if syntax == _EXPLICIT_BIG else "<")
        scanner.dataset(start, len(data), "", in_item=False)
    except _Damage as damage:
        return str(damage)
    except (struct.error, ValueError, IndexError):
        return None  # a structure this scanner does not follow: the parser's own error stands
    return None


def fragment_label(index: int) -> str:
    """Item ``index`` (from 1) of encapsulated pixel data: the offset table, then fragments."""
    return "basic offset table" if index == 1 else f"fragment {index - 1}"


def unpack_item(data: bytes, position: int, endian: str) -> tuple[int, int]:
    """Tag and length of an item header (or of any implicit VR header)."""
    group, number, length = struct.unpack_from(endian + "HHL", data, position)
    return group << 16 | number, length


def _body_start(data: bytes) -> tuple[int, str | None]:
    """Where the dataset starts, and the transfer syntax of the file meta if there is one."""
    position = 132 if data[128:132] == b"DICM" else 0
    scanner = _Scanner(data, implicit=False, endian="<")
    syntax, previous = None, ""
    while data[position : position + 2] == b"\x02\x00":
        tag, _vr, length, size = scanner.header(position, len(data), "", previous)
        value = position + size
        if value + length > len(data):
            raise _Damage(f"{element_name(tag)} declares {length} bytes, {len(data) - value} present")
        if tag == 0x00020010:
            syntax = data[value : value + length].decode("ascii", "replace").strip("\x00 ")
        position, previous = value + length, element_name(tag)
    return position, syntax


class _Scanner:
    def __init__(self, data: bytes, implicit: bool, endian: str) -> None:
        self.data = data
        self.implicit = implicit
        self.endian = endian

    def header(self, position: int, end: int, where: str, previous: str) -> tuple[int, str | None, int, int]:
        """Tag, VR (None if implicit), length and header size of the element at ``position``."""
        available = end - position
        if available < 4:
            after = f"after {previous}" if previous else "of the first element"
            raise _Damage(f"{where}the data ends inside the element header {after}: {available} of 8 bytes present")
        group, number = struct.unpack_from(self.endian + "HH", self.data, position)
        tag = group << 16 | number
        vr_bytes = self.data[position + 4 : position + 6]
        explicit = not self.implicit and group != 0xFFFE and vr_bytes.isalpha()
        size = 12 if explicit and vr_bytes in _LONG_VRS else 8
        if available < size:
            name = "its item delimiter" if tag == ITEM_END else element_name(tag)
            raise _Damage(f"{where}{name} is cut inside its header: {available} of {size} bytes present")
        if not explicit:
            return tag, None, struct.unpack_from(self.endian + "L", self.data, position + 4)[0], 8
        fmt, offset = (self.endian + "L", 8) if size == 12 else (self.endian + "H", 6)
        return tag, vr_bytes.decode("ascii"), struct.unpack_from(fmt, self.data, position + offset)[0], size

    def dataset(self, position: int, end: int, where: str, in_item: bool) -> int:
        """Scan elements up to ``end`` (or the delimiter of an undefined-length item)."""
        previous = ""
        while position < end:
            tag, vr, length, size = self.header(position, end, where, previous)
            if tag == ITEM_END and in_item:
                return position + size
            name = where + element_name(tag)
            value = position + size
            if length == UNDEFINED:
                position = self.undefined(tag, vr, value, end, name)
            elif value + length > end:
                raise _Damage(f"{name} declares {length} bytes, {end - value} present")
            else:
                if self._is_sequence(tag, vr):
                    self.items(value, value + length, name, defined=True)
                position = value + length
            previous = element_name(tag)
        if in_item:
            raise _Damage(f"{where.rstrip('> ')} has no item delimiter: the data ends first")
        return position

    def undefined(self, tag: int, vr: str | None, position: int, end: int, name: str) -> int:
        """An undefined-length value: a sequence, or encapsulated pixel data."""
        starts_with_item = end - position >= 8 and unpack_item(self.data, position, self.endian)[0] == ITEM
        if self._is_sequence(tag, vr) or (vr in (None, "UN") and starts_with_item and tag != PIXEL_DATA):
            return self.items(position, end, name, defined=False)
        return self.fragments(position, end, name)

    def items(self, position: int, end: int, name: str, defined: bool) -> int:
        """Items of a sequence; one of undefined length ends at its delimiter."""
        index = 0
        while position < end:
            tag, length = self._item_header(position, end, name)
            if tag == SEQUENCE_END and not defined:
                return position + 8
            index += 1
            where = f"{name} > item {index} > "
            if length == UNDEFINED:
                position = self.dataset(position + 8, end, where, in_item=True)
                continue
            if position + 8 + length > end:
                raise _Damage(f"{name} item {index} declares {length} bytes, {end - position - 8} present")
            self.dataset(position + 8, position + 8 + length, where, in_item=False)
            position += 8 + length
        if not defined:
            raise _Damage(f"{name} has no sequence delimiter: the data ends after item {index}")
        return position

    def fragments(self, position: int, end: int, name: str) -> int:
        """Encapsulated pixel data: items of bytes up to the sequence delimiter."""
        index = 0
        while position < end:
            tag, length = self._item_header(position, end, name)
            if tag == SEQUENCE_END:
                return position + 8
            index += 1
            if position + 8 + length > end:
                raise _Damage(f"{name} {fragment_label(index)} declares {length} bytes, {end - position - 8} present")
            position += 8 + length
        ending = f"after its {fragment_label(index)}" if index else "before its first item"
        raise _Damage(f"{name} has no sequence delimiter: the data ends {ending}")

    def _item_header(self, position: int, end: int, name: str) -> tuple[int, int]:
        available = end - position
        if available < 8:
            delimiter = SEQUENCE_END_LITTLE if self.endian == "<" else SEQUENCE_END_BIG
            cut = "its sequence delimiter" if self.data[position : position + 4] == delimiter[:4] else "an item header"
            raise _Damage(f"{name}: {cut} is cut, {available} of 8 bytes present")
        return unpack_item(self.data, position, self.endian)

    @staticmethod
    def _is_sequence(tag: int, vr: str | None) -> bool:
        if vr is not None and vr != "UN":
            return vr == "SQ"
        try:
            return bool(dictionary_VR(tag) == "SQ")
        except KeyError:
            return False
