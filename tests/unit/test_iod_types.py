from __future__ import annotations

import json

import pytest
from pydicom.tag import Tag

from anon_consistent.profile import TABLE_PATH
from anon_consistent.profile.iod_types import (
    TYPES_PATH,
    Requirement,
    attribute_requirement,
    attribute_type,
    is_known_sop_class,
    load_attribute_types,
    nested_attribute_type,
    parse_attribute_types,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
RT_STRUCT = "1.2.840.10008.5.1.4.1.1.481.3"


def tag(keyword: str) -> int:
    return int(Tag(keyword))


def test_data_is_recorded_with_its_edition_and_provenance() -> None:
    document = json.loads(TYPES_PATH.read_text())
    assert document["edition"] == "2026b"
    assert "highdicom 0.28.2" in document["source"] and "49728738b395c40058f091f13a514b468dff9451" in document["source"]
    assert document["produced"]
    assert TYPES_PATH.stat().st_size < 1_500_000


def test_only_tags_of_table_e1_1_are_recorded() -> None:
    profile_tags = {row["tag"] for row in json.loads(TABLE_PATH.read_text())["attributes"]}
    document = json.loads(TYPES_PATH.read_text())
    leaves = {path.split(">")[-1] for table in document["modules"].values() for path in table}
    assert leaves <= profile_tags
    assert len(document["sop_classes"]) == 180 and len(document["iods"]) == 175


@pytest.mark.parametrize(
    ("sop_class", "keyword", "expected"),
    [
        (CT, "StudyDate", "2"),
        (CT, "PatientName", "2"),
        (CT, "PatientID", "2"),
        (CT, "AccessionNumber", "2"),
        (CT, "ReferringPhysicianName", "2"),
        (CT, "StationName", "3"),
        (CT, "InstitutionName", "3"),
        (CT, "ReferencedStudySequence", "3"),
        (CT, "ContentDate", "2C"),
        (CT, "StudyInstanceUID", "1"),
        (CT, "FrameOfReferenceUID", "1"),
        (MR, "StudyDate", "2"),
        (RT_STRUCT, "StructureSetLabel", "1"),
        (RT_STRUCT, "StructureSetDate", "2"),
        (RT_STRUCT, "SeriesDate", "3"),
    ],
)
def test_top_level_types(sop_class: str, keyword: str, expected: str) -> None:
    assert attribute_type(sop_class, tag(keyword)) == expected


def test_module_usage_is_reported() -> None:
    assert attribute_requirement(CT, tag("StudyDate")) == Requirement("2", "M")
    assert attribute_requirement(CT, tag("PatientWeight")) == Requirement("3", "U")  # Patient Study module
    # Overlay Plane is a U module of the CT Image IOD; any overlay group matches "60xx"
    assert attribute_requirement(CT, 0x60003000) == Requirement("1", "U")
    assert attribute_requirement(CT, 0x601E3000) == Requirement("1", "U")


def test_nested_attributes() -> None:
    # ROI Name lives only inside Structure Set ROI Sequence, where it is Type 2
    assert attribute_type(RT_STRUCT, tag("ROIName")) is None
    assert nested_attribute_type(RT_STRUCT, [tag("StructureSetROISequence"), tag("ROIName")]) == "2"
    assert nested_attribute_type(CT, [tag("ReferencedStudySequence"), tag("ReferencedSOPInstanceUID")]) == "1"
    assert nested_attribute_type(CT, [tag("StudyDate")]) == "2"


def test_unknown_sop_class_and_absent_attributes_answer_none() -> None:
    assert not is_known_sop_class("1.2.3.4") and attribute_type("1.2.3.4", tag("StudyDate")) is None
    assert is_known_sop_class(CT + "\x00")  # UI padding
    assert attribute_type(CT + "\x00", tag("StudyDate")) == "2"
    assert attribute_type(CT, tag("Rows")) is None  # in the IOD but not in Table E.1-1
    assert attribute_type(CT, tag("ROIName")) is None  # in Table E.1-1 but not in the CT Image IOD


def _document(modules: dict[str, dict[str, str]], iod: list[list[str]]) -> dict[str, object]:
    return {"edition": "test", "sop_classes": {"1.2.3": "iod"}, "iods": {"iod": iod}, "modules": modules}


def test_strictest_type_wins_then_strongest_usage() -> None:
    document = _document(
        {
            "a": {"00080020": "3", "00081010": "2", "60xx3000": "1C"},
            "b": {"00080020": "1", "00081010": "2"},
        },
        [["a", "M"], ["b", "U"]],
    )
    types = parse_attribute_types(document)
    assert types.requirement("1.2.3", [0x00080020]) == Requirement("1", "U")
    assert types.requirement("1.2.3", [0x00081010]) == Requirement("2", "M")
    assert types.requirement("1.2.3", [0x60023000]) == Requirement("1C", "M")


@pytest.mark.parametrize(
    "document",
    [
        _document({"a": {"00080020": "4"}}, [["a", "M"]]),
        _document({"a": {"00080020": "1"}}, [["a", "X"]]),
        _document({"a": {"00080020": "1"}}, [["missing", "M"]]),
        _document({"a": {"0008002": "1"}}, [["a", "M"]]),
        {"edition": "test", "sop_classes": {"1.2.3": "missing"}, "iods": {}, "modules": {}},
    ],
)
def test_malformed_data_is_rejected(document: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_attribute_types(document)


def test_shipped_data_loads_once() -> None:
    assert load_attribute_types() is load_attribute_types()
