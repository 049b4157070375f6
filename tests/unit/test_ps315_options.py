"""The PS3.15 options of a request: "Options", the boolean aliases, and what they exclude."""

from __future__ import annotations

import json

import pytest
from pydicom.tag import Tag

from anon_consistent.options import AnonymizationOptions, OptionsError, parse_options
from anon_consistent.profile import OPTION_ACTIONS
from anon_consistent.ps315_options import OPTION_NAMES, PROFILE_OPTIONS

ALL_NAMES = [
    "RetainSafePrivate",
    "RetainUIDs",
    "RetainDeviceIdentity",
    "RetainInstitutionIdentity",
    "RetainPatientCharacteristics",
    "RetainLongitudinalFullDates",
    "RetainLongitudinalModifiedDates",
    "CleanDescriptors",
    "CleanStructuredContent",
    "CleanGraphics",
]


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_the_ten_options_are_named_as_the_standard_names_them() -> None:
    assert list(OPTION_NAMES) == ALL_NAMES
    assert [option.column for option in PROFILE_OPTIONS] == list(OPTION_ACTIONS)  # Table E.1-1's columns
    codes = {option.name: option.code for option in PROFILE_OPTIONS}
    assert codes == {
        "RetainSafePrivate": "113111",
        "RetainUIDs": "113110",
        "RetainDeviceIdentity": "113109",
        "RetainInstitutionIdentity": "113112",
        "RetainPatientCharacteristics": "113108",
        "RetainLongitudinalFullDates": "113106",
        "RetainLongitudinalModifiedDates": "113107",
        "CleanDescriptors": "113105",
        "CleanStructuredContent": "113104",
        "CleanGraphics": "113103",
    }


def test_pydicom_agrees_with_the_cid_7050_meanings() -> None:
    from pydicom.sr._concepts_dict import concepts

    dcm: dict[str, dict[str, tuple[str, list[int]]]] = concepts["DCM"]  # type: ignore[assignment]
    meanings = {code: meaning for entry in dcm.values() for code, (meaning, _) in entry.items()}
    for option in PROFILE_OPTIONS:
        assert meanings[option.code] == option.meaning


@pytest.mark.parametrize("name", ALL_NAMES)
def test_each_option_alone_is_accepted(name: str) -> None:
    assert parse_options(body(Options=[name])).profile_options == {name}


def test_options_combine_and_repeat() -> None:
    names = [n for n in ALL_NAMES if n != "RetainLongitudinalFullDates"]
    options = parse_options(body(Options=[*names, "CleanDescriptors"]))
    assert options.profile_options == set(names)
    assert options.shift_dates and options.clean_structured_content and options.retain_safe_private
    assert options.retain_uids and not options.full_dates


def test_the_old_booleans_are_aliases() -> None:
    assert parse_options(body(ShiftDates=True)).profile_options == {"RetainLongitudinalModifiedDates"}
    assert parse_options(body(CleanStructuredContent=True)).profile_options == {"CleanStructuredContent"}
    assert parse_options(body(ShiftDates=False, CleanStructuredContent=False)).profile_options == set()
    both = parse_options(body(ShiftDates=True, Options=["RetainLongitudinalModifiedDates"]))
    assert both.shift_dates and both.profile_options == {"RetainLongitudinalModifiedDates"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Options": ["RetainUIDs", "KeepEverything"]}, r'Unknown option\(s\) in "Options": "KeepEverything"'),
        ({"Options": ["retainuids"]}, "valid options are: RetainSafePrivate, RetainUIDs, RetainDeviceIdentity"),
        ({"Options": "RetainUIDs"}, '"Options" must be a list'),
        ({"Options": [1]}, '"Options" must be a list'),
        ({"Options": ["RetainLongitudinalFullDates", "RetainLongitudinalModifiedDates"]}, "exclude each other"),
        ({"Options": ["RetainLongitudinalFullDates"], "ShiftDates": True}, "exclude each other"),
        ({"Options": ["RetainLongitudinalModifiedDates"], "ShiftDates": False}, "contradicts"),
        ({"Options": ["CleanStructuredContent"], "CleanStructuredContent": False}, "contradicts"),
        ({"ShiftDates": "yes"}, '"ShiftDates" must be true or false'),
        ({"Options": ["RetainUIDs"], "Keep": ["PatientID"]}, "Orthanc ID of its source"),
    ],
)
def test_bad_options_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        parse_options(body(**fields))


def test_unknown_option_lists_every_valid_name() -> None:
    with pytest.raises(OptionsError) as refused:
        parse_options(body(Options=["Nope"]))
    assert all(name in str(refused.value) for name in ALL_NAMES)


def test_options_cannot_hold_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"unknown PS3\.15 option"):
        AnonymizationOptions(profile_options=frozenset({"Nope"}))


def test_retain_uids_with_a_replaced_patient_id_is_accepted() -> None:
    # The replacement may differ from every original: refused per instance if not (see the service).
    options = parse_options(body(Options=["RetainUIDs"], Replace={"PatientID": "P1"}))
    assert options.retain_uids and options.replace == {Tag("PatientID"): "P1"}


def test_describe_gives_lo_values_and_never_cuts_a_name() -> None:
    keep = ["PatientWeight", "PatientSize", "FrameOfReferenceToDisplayedCoordinateSystemTransformationMatrix"]
    keep += ["ROIName", "StudyDescription", "SeriesDescription", "ProtocolName", "BodyPartExamined"]
    options = parse_options(body(Options=ALL_NAMES[:6], Keep=keep, Remove=["Manufacturer"], KeepPrivateTags=True))
    values = options.describe()
    assert all(0 < len(value) <= 64 and "\\" not in value for value in values)
    assert values[:6] == [option.meaning for option in PROFILE_OPTIONS[:6]]
    kept = " ".join(v.removeprefix("Keep: ") for v in values if v.startswith("Keep: ")).split()
    # A keyword too long to fit beside the label is written as its number.
    assert sorted(kept) == sorted([*keep[:2], "0070,030B", *keep[3:]])
    assert "Remove: Manufacturer" in values and values[-1].startswith("KeepPrivateTags")


def test_kept_private_attributes_of_a_long_creator_are_never_cut_apart() -> None:
    creator = "C" * 60 + "WXYZ"  # the 64 characters an LO allows
    keep = [{"Creator": creator, "Element": "0019,xx0C"}, {"Creator": creator, "Element": "0019,xx0D"}]
    values = parse_options(body(Keep=keep)).describe()
    assert values == ["Keep: (0019,xx0C) of creator:", creator, "Keep: (0019,xx0D) of creator:", creator]
    short = parse_options(body(Keep=[{"Creator": "SIEMENS MR HEADER", "Element": "0019,xx0C"}])).describe()
    assert short == ["Keep: SIEMENS MR HEADER (0019,xx0C)"]


def test_a_non_ascii_creator_is_described_in_the_default_repertoire() -> None:
    keep = [{"Creator": "Müller Bildgebung", "Element": "0019,xx0C"}, {"Creator": "É" * 64, "Element": "0019,xx0D"}]
    values = parse_options(body(Keep=keep)).describe()
    assert values == ["Keep: M?ller Bildgebung (0019,xx0C)", "Keep: (0019,xx0D) of creator:", "?" * 64]
    assert all(value.isascii() and len(value) <= 64 for value in values)
