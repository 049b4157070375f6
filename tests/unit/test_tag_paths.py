"""Parsing sequence paths and plain tags in every form Orthanc accepts, and telling when two paths meet."""

from __future__ import annotations

import pytest
from pydicom.tag import Tag

from anon_consistent.tag_paths import PathStep, TagPath, describe, find_conflict, parse_tag_reference
from anon_consistent.tag_syntax import OptionsError, blockless_private, parse_tag

DIMENSION_INDEX = Tag("DimensionIndexSequence")
LABEL = Tag("DimensionDescriptionLabel")


@pytest.mark.parametrize(
    "text", ["PatientID", "0010,0020", "0010-0020", "00100020", "(0010,0020)", " ( 0010 , 0020 ) ", "0010 - 0020"]
)
def test_every_tag_form_names_the_same_tag(text: str) -> None:
    assert parse_tag(text) == Tag("PatientID")
    assert parse_tag_reference(text) == Tag("PatientID")


@pytest.mark.parametrize(
    "text",
    [
        "DimensionIndexSequence[1].DimensionDescriptionLabel",
        "0020,9222[1].0020,9421",
        "0020-9222[1].0020-9421",
        "00209222[1].00209421",
        "(0020,9222)[1].(0020,9421)",
        " DimensionIndexSequence [ 1 ] . DimensionDescriptionLabel ",
    ],
)
def test_a_path_accepts_every_tag_form_in_each_part(text: str) -> None:
    assert parse_tag_reference(text) == TagPath((PathStep(DIMENSION_INDEX, 1),), LABEL)


def test_star_means_every_item_and_paths_go_any_depth_through_private_sequences() -> None:
    path = parse_tag_reference("PerFrameFunctionalGroupsSequence[*].2005,140f[0].SOPInstanceUID")
    assert path == TagPath(
        (PathStep(Tag("PerFrameFunctionalGroupsSequence"), None), PathStep(Tag(0x2005140F), 0)),
        Tag("SOPInstanceUID"),
    )
    assert str(path) == "(5200,9230)[*].(2005,140F)[0].(0008,0018)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DimensionIndexSequence.DimensionDescriptionLabel", r'"DimensionIndexSequence" needs an item index: \[0\]'),
        ("DimensionIndexSequence[1]", r'ends with an attribute, not an item: "DimensionIndexSequence\[1\]"'),
        ("DimensionIndexSequence[-1].DimensionDescriptionLabel", r"a number from 0 \(the first item\) or \*"),
        ("DimensionIndexSequence[x].DimensionDescriptionLabel", r"a number from 0 \(the first item\) or \*"),
        ("[0].DimensionDescriptionLabel", "empty tag in the path"),
        ("DimensionIndexSequence[0]..PatientName", "empty tag in the path"),
        ("PatientName[0].PatientID", r'"PatientName" is not a sequence \(VR PN\)'),
        ("NoSuchSequence[0].PatientID", 'Unknown DICOM tag "NoSuchSequence"'),
        ("DimensionIndexSequence[0]].PatientID", "is not a tag with an optional item index"),
    ],
)
def test_a_bad_path_says_which_part_and_lists_the_forms(text: str, message: str) -> None:
    with pytest.raises(OptionsError, match=message) as refused:
        parse_tag_reference(text)
    assert "Sequence[*].Attribute" in str(refused.value)
    assert '"0010-0010"' in str(refused.value)


def test_an_unknown_plain_tag_lists_the_accepted_forms() -> None:
    with pytest.raises(OptionsError, match=r'Unknown DICOM tag "Nope": use a keyword .*"0010-0010"'):
        parse_tag("Nope")


@pytest.mark.parametrize("text", ["0019,xx0C", "0019-xx0C", "(0019,xx0C)", "0019xx0C", " 0019 , XX0c "])
def test_a_private_element_without_its_block_has_the_same_number_forms(text: str) -> None:
    assert blockless_private(text) == (0x0019, 0x0C)


def path(text: str) -> TagPath:
    parsed = parse_tag_reference(text)
    assert isinstance(parsed, TagPath)
    return parsed


def test_star_reaches_every_index_and_distinct_indices_never_meet() -> None:
    assert path("DimensionIndexSequence[*].PatientName").reaches(path("DimensionIndexSequence[2].PatientName"))
    assert not path("DimensionIndexSequence[1].PatientName").reaches(path("DimensionIndexSequence[2].PatientName"))
    assert not path("DimensionIndexSequence[1].PatientName").reaches(path("DimensionIndexSequence[1].PatientID"))


def test_a_path_inside_the_subtree_of_another_reaches_it() -> None:
    outer = path("SharedFunctionalGroupsSequence[0].ReferencedImageSequence")
    inner = path("SharedFunctionalGroupsSequence[*].ReferencedImageSequence[1].ReferencedSOPClassUID")
    assert outer.reaches(inner) and inner.reaches(outer)
    assert not outer.reaches(path("SharedFunctionalGroupsSequence[0].DerivationImageSequence[0].SOPClassUID"))


def test_conflicts_are_between_different_operations_or_replace_values() -> None:
    everywhere = path("DimensionIndexSequence[*].DimensionDescriptionLabel")
    first = path("DimensionIndexSequence[0].DimensionDescriptionLabel")
    conflict = find_conflict({"Keep": {everywhere: None}, "Remove": {first: None}})
    assert conflict is not None and '"Keep" of DimensionIndexSequence[*].DimensionDescriptionLabel' in conflict
    assert find_conflict({"Replace": {everywhere: "a", first: "b"}}) is not None
    assert find_conflict({"Replace": {everywhere: "a", first: "a"}}) is None
    assert find_conflict({"Keep": {everywhere: None, first: None}}) is None
    second = path("DimensionIndexSequence[1].DimensionDescriptionLabel")
    assert find_conflict({"Keep": {first: None}, "Remove": {second: None}}) is None


def test_description_is_tag_numbers_compact_when_long_and_cut_as_a_last_resort() -> None:
    short = path("DimensionIndexSequence[1].DimensionDescriptionLabel")
    assert describe("Keep", [short]) == ["Keep: (0020,9222)[1].(0020,9421)"]
    long = path("(5200,9230)[*].2005,140f[*].(0008,9124)[*].SOPInstanceUID")
    assert describe("Replace", [long]) == ["Replace: 52009230[*].2005140F[*].00089124[*].00080018"]
    deeper = path("(5200,9230)[*].2005,140f[*].(0008,9124)[*].(0008,2112)[0].(0008,1140)[12].SOPInstanceUID")
    (value,) = describe("Remove", [deeper])
    assert len(value) == 64 and value.endswith("...") and value.startswith("Remove: 52009230[*]")
