"""The site's safe private list, "AnonConsistent": {"SafePrivateTags": [...]}, extends Table E.3.10-1."""

from __future__ import annotations

from pathlib import Path

import pytest

from anon_consistent.adapter.config import ConfigError, parse_config
from anon_consistent.private_blocks import PrivateAttribute
from anon_consistent.profile.safe_private import load_safe_private

GE_GRADIENTS = [{"Creator": "GEMS_ACQU_01", "Element": f"0019,xx{low}"} for low in ("BB", "BC", "BD")]


def section(tags: object) -> dict[str, object]:
    return {"AnonConsistent": {"SafePrivateTags": tags}}


def test_the_site_list_is_parsed_and_extends_the_standard_table() -> None:
    config = parse_config(section(GE_GRADIENTS), Path("/"))
    expected = tuple(PrivateAttribute("GEMS_ACQU_01", 0x0019, low) for low in (0xBB, 0xBC, 0xBD))
    assert config.safe_private_tags == expected
    table = config.safe_private()
    assert len(table.rows) == len(load_safe_private().rows) + 3
    row = table.lookup("GEMS_ACQU_01", 0x0019, 0xBC)
    assert row is not None and "SafePrivateTags" in row.meaning
    assert table.lookup("GEMS_ACQU_01", 0x0019, 0x23) is not None  # the standard rows stay


def test_no_site_list_means_the_standard_table() -> None:
    config = parse_config({}, Path("/"))
    assert config.safe_private_tags == () and config.safe_private() is load_safe_private()


def test_a_row_the_standard_already_lists_is_accepted() -> None:
    config = parse_config(section([{"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"}]), Path("/"))
    assert config.safe_private() is load_safe_private()


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"Creator": "GEMS_ACQU_01"}, r'"AnonConsistent.SafePrivateTags" must be a list'),
        (["0019,10BB"], r"SafePrivateTags\"\[0\]: a private attribute is an object"),
        ([{"Creator": "GEMS_ACQU_01", "Element": "0019,10BB"}], r'\[0\]: "Element" must be "gggg,xxee"'),
        ([{"Creator": "GEMS_ACQU_01", "Element": "0018,xxBB"}], r"private group"),
        ([{"Creator": "", "Element": "0019,xxBB"}], r'"Creator" must be a non-empty string'),
        ([{"Element": "0019,xxBB"}], r'needs "Creator" and "Element"'),
        ([{"Creator": "A", "Element": "0019,xxBB", "Vr": "DS"}], r"unknown key"),
        ([*GE_GRADIENTS, GE_GRADIENTS[0]], r"\[3\]: GEMS_ACQU_01 \(0019,xxBB\) is listed twice"),
    ],
)
def test_malformed_entries_stop_the_plugin_with_a_clear_message(tags: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(section(tags), Path("/"))
