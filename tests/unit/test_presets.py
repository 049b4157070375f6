"""Presets: validation of the configured ones, and a request body added to one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydicom.tag import Tag

from anon_consistent.options import OptionsError
from anon_consistent.presets import CALLER_ONLY, Preset, PresetError, merge, parse_presets, parse_request

REPO = Path(__file__).resolve().parents[2]

PRESETS = parse_presets(
    {
        "pet": {
            "Description": "PET with weight",
            "Keep": ["PatientWeight", "PatientSize"],
            "ShiftDates": True,
            "Project": "pet-study",
        },
        "named": {"Replace": {"PatientName": "RESEARCH", "PatientID": "R-1"}, "Remove": ["StudyDescription"]},
    }
)


def request(body: dict[str, Any] | None, presets: dict[str, Preset] = PRESETS) -> Any:
    return parse_request(None if body is None else json.dumps(body), presets)


# --- merge: lists, objects and scalars ------------------------------------------------------------


def test_lists_are_concatenated_without_duplicates_whatever_the_tag_spelling() -> None:
    merged = merge({"Keep": ["PatientWeight", "PatientSize"]}, {"Keep": ["0010,1030", "StudyDescription"]})
    assert merged["Keep"] == ["PatientSize", "0010,1030", "StudyDescription"]


def test_options_lists_are_concatenated_without_duplicates() -> None:
    merged = merge(
        {"Options": ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates"]},
        {"Options": ["RetainLongitudinalModifiedDates", "CleanDescriptors"]},
    )
    assert merged["Options"] == ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates", "CleanDescriptors"]


def test_objects_are_merged_and_the_body_wins_per_tag() -> None:
    merged = merge({"Replace": {"PatientName": "A", "PatientID": "1"}}, {"Replace": {"0010,0010": "B"}})
    assert merged["Replace"] == {"PatientID": "1", "0010,0010": "B"}


def test_scalars_of_the_body_win_and_the_preset_fills_the_rest() -> None:
    merged = merge({"Project": "p", "ShiftDates": True, "Priority": 1}, {"Project": "q", "Priority": 5})
    assert merged == {"Project": "q", "ShiftDates": True, "Priority": 5}


def test_the_body_decides_about_a_tag_it_names_in_another_list() -> None:
    merged = merge(
        {"Keep": ["PatientWeight", "PatientSize"], "Replace": {"PatientName": "A"}},
        {"Remove": ["0010,1030"], "Keep": ["PatientName"]},
    )
    assert merged == {"Keep": ["PatientSize", "PatientName"], "Replace": {}, "Remove": ["0010,1030"]}


def test_a_sequence_path_is_one_key_whatever_its_spelling() -> None:
    preset = {
        "Keep": ["DimensionIndexSequence[*].DimensionDescriptionLabel", "PatientSize"],
        "Replace": {"DimensionIndexSequence[0].PatientName": "A"},
    }
    body = {"Remove": ["0020-9222[*].(0020,9421)"], "Replace": {"00209222[0].00100010": "B"}}
    merged = merge(preset, body)
    assert merged == {"Keep": ["PatientSize"], "Replace": {"00209222[0].00100010": "B"}, **body}


def test_a_date_option_of_the_body_replaces_the_other_date_option_of_the_preset() -> None:
    preset = {"Options": ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates"]}
    merged = merge(preset, {"Options": ["RetainLongitudinalFullDates"]})
    assert merged["Options"] == ["RetainPatientCharacteristics", "RetainLongitudinalFullDates"]
    # ShiftDates is the boolean name of the modified dates option, both ways.
    assert merge({"ShiftDates": True}, {"Options": ["RetainLongitudinalFullDates"]}) == {
        "Options": ["RetainLongitudinalFullDates"]
    }
    assert merge({"Options": ["RetainLongitudinalFullDates"]}, {"ShiftDates": True}) == {
        "Options": [],
        "ShiftDates": True,
    }


def test_a_false_alias_in_the_body_takes_the_option_out_of_the_preset() -> None:
    merged = merge({"Options": ["RetainLongitudinalModifiedDates", "CleanStructuredContent"]}, {"ShiftDates": False})
    assert merged == {"Options": ["CleanStructuredContent"], "ShiftDates": False}


def test_merge_changes_neither_input() -> None:
    preset = {"Keep": ["PatientWeight"], "Replace": {"PatientName": "A"}}
    body = {"Keep": ["PatientSize"], "Replace": {"PatientName": "B"}}
    snapshot = json.dumps([preset, body])
    merge(preset, body)
    assert json.dumps([preset, body]) == snapshot


def test_a_wrongly_typed_body_value_reaches_the_usual_error() -> None:
    with pytest.raises(OptionsError, match=r'"Keep" must be a list.*preset "pet"'):
        request({"Preset": "pet", "Keep": "PatientName"})


def test_a_repeated_key_beside_a_preset_is_refused_not_merged() -> None:
    # Merged after json.loads, {"Keep": [...], "Keep": []} would silently lose the first list.
    body = '{"Preset": "pet", "Keep": ["StudyDescription"], "Keep": []}'
    with pytest.raises(OptionsError, match='names "Keep" twice'):
        parse_request(body, PRESETS)


# --- parse_request: what a call gets ---------------------------------------------------------------


def test_a_request_gets_the_presets_options_plus_its_own() -> None:
    resolved = request({"Preset": "pet", "Keep": ["StudyDescription"], "Project": "mine"})
    assert resolved.preset == "pet"
    assert resolved.options.keep == {Tag("PatientWeight"), Tag("PatientSize"), Tag("StudyDescription")}
    assert resolved.options.shift_dates is True
    assert resolved.options.project == "mine"
    assert resolved.resolved_body == {
        "Keep": ["PatientWeight", "PatientSize", "StudyDescription"],
        "ShiftDates": True,
        "Project": "mine",
    }
    assert "Description" not in resolved.resolved_body


def test_the_preset_alone_applies_as_configured() -> None:
    resolved = request({"Preset": "named"})
    assert resolved.options.replace == {Tag("PatientName"): "RESEARCH", Tag("PatientID"): "R-1"}
    assert resolved.options.remove == {Tag("StudyDescription")}


def test_without_a_preset_nothing_changes() -> None:
    for body in (None, {}, {"Keep": ["PatientWeight"]}):
        resolved = request(body)
        assert resolved.preset is None and resolved.resolved_body is None
    assert request({"Keep": ["PatientWeight"]}).options.keep == {Tag("PatientWeight")}
    assert request(None).options.keep == frozenset()


@pytest.mark.parametrize("name", ["nope", "PET", 3, None, ["pet"]])
def test_an_unknown_preset_is_refused_with_the_known_ones(name: object) -> None:
    with pytest.raises(OptionsError, match=r'Unknown preset .*the known presets are "named", "pet"'):
        request({"Preset": name})


def test_an_unknown_preset_without_any_configured_says_so() -> None:
    with pytest.raises(OptionsError, match="no preset is configured"):
        request({"Preset": "pet"}, {})


def test_a_contradiction_left_by_the_merge_names_the_preset() -> None:
    with pytest.raises(OptionsError, match=r'Synchronous.*contradict.*preset "pet"'):
        request({"Preset": "pet", "Synchronous": True, "Asynchronous": True})


def test_malformed_bodies_get_the_errors_they_get_without_presets() -> None:
    for body in ("[1]", "{", '{"Preset": "pet"' + "]" * 40, "[" * 40 + "]" * 40):
        with pytest.raises(OptionsError) as with_presets:
            parse_request(body, PRESETS)
        with pytest.raises(OptionsError) as without:
            parse_request(body, {})
        assert str(with_presets.value) == str(without.value)


# --- parse_presets: start-up validation ------------------------------------------------------------


def test_presets_keep_their_description_and_content() -> None:
    assert PRESETS["pet"].description == "PET with weight"
    assert PRESETS["pet"].as_json() == {
        "Description": "PET with weight",
        "Keep": ["PatientWeight", "PatientSize"],
        "ShiftDates": True,
        "Project": "pet-study",
    }
    assert PRESETS["named"].as_json()["Remove"] == ["StudyDescription"]
    assert parse_presets({}) == {}


@pytest.mark.parametrize(
    ("presets", "message"),
    [
        ([], "expected a JSON object"),
        ({"bad name": {}}, 'preset name "bad name" must be'),
        ({"": {}}, 'preset name "" must be'),
        ({"x": ["Keep"]}, 'preset "x" must be a JSON object'),
        ({"x": {"Description": 3}}, '"Description" must be a string'),
        ({"x": {"Keep": ["NoSuchTag"]}}, 'preset "x": "Keep": Unknown DICOM tag'),
        ({"x": {"Colour": "red"}}, 'preset "x": Unknown option'),
        ({"x": {"Replace": {"Rows": "70000"}}}, 'preset "x": "Replace" value for Rows'),
        ({"x": {"Keep": ["PatientName"], "Remove": ["PatientName"]}}, 'preset "x": A tag cannot be both'),
    ],
)
def test_an_invalid_preset_is_refused_naming_it(presets: object, message: str) -> None:
    with pytest.raises(PresetError, match=message.replace("(", r"\(")):
        parse_presets(presets)


@pytest.mark.parametrize("key", sorted(CALLER_ONLY))
def test_a_preset_cannot_decide_what_each_call_must_decide(key: str) -> None:
    with pytest.raises(PresetError, match=f'preset "x" cannot set "{key}"'):
        parse_presets({"x": {key: True}})


def test_the_shipped_presets_are_valid_agree_and_only_add_options() -> None:
    example = json.loads((REPO / "docs" / "presets.example.json").read_text())["AnonConsistent"]["Presets"]
    shipped = json.loads((REPO / "orthanc.json").read_text())["AnonConsistent"]["Presets"]
    assert shipped == example
    presets = parse_presets(shipped)
    assert {name: preset.body for name, preset in presets.items()} == {
        "pet-suv": {"Options": ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates"]},
        "diffusion-mr": {"Options": ["RetainSafePrivate"]},
        "rt-roi-names": {"Options": ["CleanDescriptors"]},
    }
    assert all(preset.description for preset in presets.values())
