"""Failure reasons name attributes and keep values out."""

from __future__ import annotations

from anon_consistent.errors import ElementError, describe_unexpected, element_name, without_values


def test_library_messages_lose_their_values() -> None:
    message = (
        "Invalid value for VR UI: '1.2.840.113619.2.55.3.0604688119.01'. Please see "
        "<https://dicom.nema.org/medical/dicom/current/output/html/part05.html#table_6.2-1>"
    )
    assert "0604688119" not in without_values(message)
    assert without_values(message).startswith("Invalid value for VR UI: '…'.")
    assert without_values('Value "Doe^John" is not valid for elements with a VR of DS') == (
        "Value '…' is not valid for elements with a VR of DS"
    )
    assert without_values("born 19420817, seen 20200304101112.5, uid 1.2.3.4.5") == "born …, seen …, uid …"


def test_what_is_not_a_value_stays_readable() -> None:
    text = "instance 3d802ce5-60a3579d-c7d854f0-29728e17-d7449c97 failed: PixelData (7FE0,0010) declares 512 bytes"
    assert without_values(text) == text


def test_unexpected_errors_keep_their_type() -> None:
    assert describe_unexpected(TypeError("'float' object is not iterable")) == "TypeError: '…' object is not iterable"


def test_element_errors_read_as_a_path() -> None:
    error = ElementError(element_name(0x00081155), "declares 40 bytes, 18 present")
    error.inside("item 2").inside(element_name(0x00081140))
    assert str(error) == (
        "ReferencedImageSequence (0008,1140) > item 2 > "
        "ReferencedSOPInstanceUID (0008,1155) declares 40 bytes, 18 present"
    )
    assert element_name(0x00291010) == "(0029,1010)"
