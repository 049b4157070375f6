"""``Remove`` of a Private Creator removes the block it reserves, whatever the element order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anon_consistent.options import OptionsError, parse_options
from tests.dicom_data import read
from tests.unit.test_private_blocks import anonymized, private_tags, reserve

SIEMENS = {0x0C: ("IS", "1000"), 0x0D: ("CS", "DIRECTIONAL"), 0x0E: ("FD", [0.5, 0.5, 0.7])}
GE = {0x9E: ("LO", "epi2")}


def with_two_blocks() -> Dataset:
    dataset = read("MR_small.dcm")
    reserve(dataset, 0x0019, 0x10, "GEMS_ACQU_01", GE)
    reserve(dataset, 0x0019, 0x11, "SIEMENS MR HEADER", SIEMENS)
    return dataset


@pytest.mark.parametrize("extra", [{"Options": ["RetainSafePrivate"]}, {"KeepPrivateTags": True}])
@pytest.mark.parametrize(
    ("removed", "left"),
    [
        # The creator at (0019,0010) is read first: its block went only if that was read after the removal.
        ("0019,0011", {0x00190010, 0x0019109E}),
        ("0019,0010", {0x00190011, 0x0019110C, 0x0019110D, 0x0019110E}),
    ],
)
def test_removing_a_creator_removes_its_whole_block(extra: dict[str, Any], removed: str, left: set[int]) -> None:
    out = anonymized(with_two_blocks(), {**extra, "Remove": [removed]})
    assert private_tags(out) == left


def test_the_block_goes_at_every_dataset_level() -> None:
    dataset = with_two_blocks()
    item = Dataset()
    reserve(item, 0x0019, 0x11, "SIEMENS MR HEADER", SIEMENS)
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = dataset.SOPClassUID, dataset.SOPInstanceUID
    dataset.ReferencedImageSequence = Sequence([item])
    out = anonymized(dataset, {"Options": ["RetainSafePrivate"], "Remove": ["0019,0011"]})
    assert private_tags(out) == {0x00190010, 0x0019109E}
    assert private_tags(out.ReferencedImageSequence[0]) == set()


@pytest.mark.parametrize(
    "keep",
    [
        "0019,110C",  # in the removed block
        {"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"},  # may be in the removed block
    ],
)
def test_keeping_what_a_removed_creator_reserves_is_a_contradiction(keep: object) -> None:
    with pytest.raises(OptionsError, match=r"Private Creator 0019,0011 removes its block.*contradict"):
        parse_options(json.dumps({"Keep": [keep], "Remove": ["0019,0011"]}))


def test_keeping_in_another_block_or_group_is_no_contradiction() -> None:
    body = {"Keep": ["0019,100C", {"Creator": "GEMS_PARM_01", "Element": "0043,xx39"}], "Remove": ["0019,0011"]}
    assert parse_options(json.dumps(body)).remove == {0x00190011}
