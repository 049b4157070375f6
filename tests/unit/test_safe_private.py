from __future__ import annotations

import json
from collections import Counter

import pytest

from anon_consistent.profile.safe_private import SAFE_PRIVATE_PATH, load_safe_private, parse_safe_private

SUV = "by Rescale Slope then this factor results in SUVbw in g/l"


def test_table_is_recorded_with_its_edition_and_provenance() -> None:
    document = json.loads(SAFE_PRIVATE_PATH.read_text())
    assert document["standard"] == "DICOM PS3.15" and document["table"] == "E.3.10-1"
    assert document["edition"] == "2026c"
    assert "77d60b856faf4223ab40a398c53130fc0ee9490d0d811ee3536e6d25c02ac717" in document["source"]
    assert "table_E.3.10-1" in document["produced"]
    assert set(document["columns"]) == {"creator", "element", "vr", "vm", "meaning"}


def test_row_and_creator_counts_of_edition_2026c() -> None:
    table = load_safe_private()
    assert len(table.rows) == 479
    creators = Counter(row.creator for row in table.rows)
    assert len(creators) == 20
    assert creators["Philips Imaging DD 001"] == 184
    assert creators["GEMS_PARM_01"] == 3
    assert creators["SIEMENS MR HEADER"] == 4


@pytest.mark.parametrize(
    ("creator", "group", "low_byte", "vr", "vm", "meaning"),
    [
        ("GEMS_PARM_01", 0x0043, 0x39, "IS", "4", "1stvalue is B Value"),
        ("GEMS_PARM_01", 0x0043, 0x27, "SH", "1", 'Scan Pitch Ratio in the form "n.nnn:1"'),
        ("GEMS_ACQU_01", 0x0019, 0x23, "DS", "1", "Table Speed [mm/rotation]"),
        ("SIEMENS MR HEADER", 0x0019, 0x0C, "IS", "1", "B Value"),
        ("SIEMENS MR HEADER", 0x0019, 0x27, "FD", "6", "B Matrix"),
        ("Philips MR Imaging DD 001", 0x2005, 0x0E, "FL", "1", "Scale Slope"),
        ("Philips MR Imaging DD 001", 0x2005, 0x0D, "FL", "1", "Scale Intercept"),
        ("Philips PET Private Group", 0x7053, 0x00, "DS", "1", "SUV Factor - Multiplying Stored Pixel Values " + SUV),
        # written '(2001,xx0a)' in the table: hex case is normalized
        ("Philips Imaging DD 001", 0x2001, 0x0A, "IS", "1", "Image Plane Number"),
        ("SIEMENS Ultrasound SC2000", 0x0119, 0x11, "", "1", "Stage Timer Time"),
    ],
)
def test_known_rows(creator: str, group: int, low_byte: int, vr: str, vm: str, meaning: str) -> None:
    row = load_safe_private().lookup(creator, group, low_byte)
    assert row is not None
    assert (row.creator, row.group, row.low_byte, row.vr, row.vm, row.meaning) == (
        creator,
        group,
        low_byte,
        vr,
        vm,
        meaning,
    )


def test_lookup_by_tag_ignores_the_block_and_needs_the_creator() -> None:
    table = load_safe_private()
    for tag in (0x00431039, 0x00431139, 0x0043FF39):
        row = table.lookup_tag("GEMS_PARM_01", tag)
        assert row is not None and row.meaning == "1stvalue is B Value"
    assert table.lookup_tag("GEMS_PARM_01 ", 0x00431039) is not None  # LO padding
    assert table.lookup_tag("GEMS_PARM_01\x00", 0x00431039) is not None
    assert table.lookup_tag("gems_parm_01", 0x00431039) is None  # creators are case-sensitive
    assert table.lookup_tag("GEMS_ACQU_01", 0x00431039) is None  # same element, other creator
    assert table.lookup_tag("GEMS_PARM_01", 0x00451039) is None  # other group
    assert table.lookup_tag("GEMS_PARM_01", 0x00431040) is None  # not listed
    # same group and low byte under three Philips creators, three different attributes
    meanings = {table.lookup_tag(f"Philips Imaging DD {n}", 0x20011039).meaning for n in ("001", "002", "097")}  # type: ignore[union-attr]
    assert meanings == {"Overscan Factor", "Unique Rox Shape", "Cone Geometry View Distance"}
    assert table.has_creator("ELSCINT1 ") and not table.has_creator("SIEMENS CSA HEADER")


def _document(**entry: str) -> dict[str, object]:
    row = {"creator": "ACME", "element": "0009,xx10", "vr": "DS", "vm": "1", "meaning": "m", **entry}
    return {"edition": "test", "attributes": [row]}


def test_malformed_rows_are_rejected() -> None:
    assert parse_safe_private(_document()).lookup("ACME", 0x0009, 0x10) is not None
    for bad in ({"element": "0008,xx10"}, {"element": "(0009,xx10)"}, {"creator": " ACME"}, {"vr": "ds"}, {"vm": "x"}):
        with pytest.raises(ValueError):
            parse_safe_private(_document(**bad))
    duplicate = _document()
    duplicate["attributes"] = duplicate["attributes"] * 2  # type: ignore[operator]
    with pytest.raises(ValueError, match="duplicate"):
        parse_safe_private(duplicate)
