"""Damaged instances are refused: no element may claim more bytes than the data holds.

pydicom reads a truncated file without complaint. A value cut short comes
back short, and an encapsulated PixelData that lost its end makes the whole
dataset come back empty (the EOFError becomes a warning). Written out again,
such an instance would look valid with part of its pixels missing.

On good data the checks cost O(1) per instance, with no second parse: a cut
or an overlong length can only shorten the last element read (pydicom reads
to the end of the data for it), pydicom's final read position says whether
the parse reached the end, and the last element's end says whether bytes of
a cut header follow it. Encapsulated pixel data is checked item by item.
Only once something is wrong does ``damage`` scan the file to say where.
"""

from __future__ import annotations

from io import BytesIO
from typing import cast

from pydicom import dcmread
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

from .damage import (
    ITEM,
    PIXEL_DATA,
    SEQUENCE_END_BIG,
    SEQUENCE_END_LITTLE,
    UNDEFINED,
    fragment_label,
    locate_damage,
    looks_like_dicom,
    unpack_item,
)
from .errors import ElementError, InstanceRewriteError, describe_unexpected, element_name

NOT_DICOM = "cannot parse DICOM: no DICM prefix and no known first element"
MISSING_PIXELS = "PixelData (7FE0,0010) is missing: the file may be truncated"
# Type 1 attributes of the Image Pixel module (PS3.3 C.7.6.3) that no other
# module uses: SamplesPerPixel, PhotometricInterpretation, BitsAllocated.
_IMAGE_PIXEL_MARKERS = (0x00280002, 0x00280004, 0x00280100)
# Where that module's pixels may be: Float, Double Float, Pixel Data, Provider URL (JPIP).
_PIXELS_OR_ALTERNATIVES = (0x7FE00008, 0x7FE00009, PIXEL_DATA, 0x00287FE0)


def read_checked(data: bytes, stop_before_pixels: bool = False) -> Dataset:
    """Parse an instance; ``InstanceRewriteError`` if it cannot be parsed or is damaged."""
    stream = BytesIO(data)
    try:
        dataset = dcmread(stream, force=True, stop_before_pixels=stop_before_pixels)
    except Exception as error:  # pydicom raises many types on damaged data
        raise explained(data, error) from error
    try:
        check_last_element(dataset)
        if not stop_before_pixels and (stream.tell() != len(data) or _ends_early(dataset, data)):
            # The parse stopped early (pydicom rewinds to the element it gave
            # up on), or bytes follow the last element: a header cut short.
            raise explained(data, None)
        if not dataset._dict and (damage := locate_damage(data)) is not None:
            raise InstanceRewriteError(damage)  # pydicom gave up on the first element it read
        pixels = _elements(dataset).get(PIXEL_DATA)
        if isinstance(pixels, RawDataElement) and pixels.length == UNDEFINED and pixels.is_little_endian:
            _check_fragments(pixels)
        if not stop_before_pixels:
            check_pixels_present(dataset)
    except InstanceRewriteError:
        if not looks_like_dicom(data):
            raise InstanceRewriteError(NOT_DICOM) from None
        raise
    return dataset


def check_last_element(dataset: Dataset) -> None:
    """``ElementError`` if the last element read declares more bytes than it got."""
    element = _last(dataset)
    if not isinstance(element, RawDataElement) or element.length in (0, UNDEFINED) or element.value is None:
        return
    present = len(element.value)
    if present < element.length:
        raise ElementError(element_name(element.tag), f"declares {element.length} bytes, {present} present")


def check_pixels_present(dataset: Dataset) -> None:
    """``InstanceRewriteError`` if the Image Pixel module is there but its pixels are not.

    A file cut exactly between two elements, say right before PixelData,
    parses cleanly and would be written out as an image without pixels. Pixel
    Data is Type 1C (PS3.3 C.7.6.3): required unless Float or Double Float
    Pixel Data or a Pixel Data Provider URL stands in for it. The module is
    recognised by its own Type 1 attributes, not by the SOP Class: the
    shipped IOD data records only the attributes of PS3.15 Table E.1-1.
    """
    elements = dataset._dict
    if any(tag in elements for tag in _IMAGE_PIXEL_MARKERS) and not any(
        tag in elements for tag in _PIXELS_OR_ALTERNATIVES
    ):
        raise InstanceRewriteError(MISSING_PIXELS)


def explained(data: bytes, error: BaseException | None) -> InstanceRewriteError:
    """The failure of ``data`` as a reason: the damaged element if one is found, else ``error``."""
    damage = locate_damage(data)
    if damage is not None:
        return InstanceRewriteError(damage)
    if isinstance(error, InstanceRewriteError):
        return error
    if error is None:
        return InstanceRewriteError("the DICOM data ends before its last element does")
    return InstanceRewriteError(f"cannot parse DICOM: {describe_unexpected(error)}")


def _elements(dataset: Dataset) -> dict[int, RawDataElement | DataElement]:
    return cast("dict[int, RawDataElement | DataElement]", dataset._dict)


def _last(dataset: Dataset) -> RawDataElement | DataElement | None:
    elements = _elements(dataset)
    return elements[next(reversed(elements))] if elements else None


def _ends_early(dataset: Dataset, data: bytes) -> bool:
    """Whether bytes follow the last element read (where its end is known)."""
    element = _last(dataset)
    if isinstance(element, DataElement):
        # A sequence of undefined length, parsed as it was read: it must be
        # the end of the data, delimiter included.
        if element.VR != "SQ" or not element.is_undefined_length:
            return False
        return not data.endswith(SEQUENCE_END_LITTLE if dataset.original_encoding[1] else SEQUENCE_END_BIG)
    if element is None or (element.value is not None and not isinstance(element.value, bytes)):
        return False
    value = element.value or b""
    delimiter = 8 if element.length == UNDEFINED else 0
    return element.value_tell + len(value) + delimiter < len(data)


def _check_fragments(element: RawDataElement) -> None:
    """Encapsulated pixel data must be whole items, the last one included."""
    value = element.value
    assert isinstance(value, bytes)
    name = element_name(element.tag)
    position, index, end = 0, 0, len(value)
    while position < end:
        index += 1
        if end - position < 8:
            raise ElementError(name, f"{fragment_label(index)} is cut inside its item header")
        tag, length = unpack_item(value, position, "<")
        if tag != ITEM:
            raise ElementError(name, f"{fragment_label(index)} is not an item")
        if position + 8 + length > end:
            raise ElementError(name, f"{fragment_label(index)} declares {length} bytes, {end - position - 8} present")
        position += 8 + length
