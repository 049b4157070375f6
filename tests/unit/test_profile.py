from __future__ import annotations

import json

from pydicom.tag import Tag

from anon_consistent.profile import TABLE_PATH, load_basic_profile


def test_table_is_recorded_with_a_current_edition_and_its_provenance() -> None:
    document = json.loads(TABLE_PATH.read_text())
    year, letter = int(document["edition"][:4]), document["edition"][4:]
    assert (year, letter) >= (2024, "b")
    assert document["source"] and document["produced"]
    assert len(document["attributes"]) > 600


def test_key_rows() -> None:
    profile = load_basic_profile()
    expected = {
        "StudyInstanceUID": "U",
        "SeriesInstanceUID": "U",
        "SOPInstanceUID": "U",
        "FrameOfReferenceUID": "U",
        "ReferencedSOPInstanceUID": "U",
        "PatientName": "Z",
        "PatientID": "Z/D",
        "AccessionNumber": "Z",
        "StudyDate": "Z",
        "InstitutionName": "X/Z/D",
        "ReferencedImageSequence": "X/Z/U*",
    }
    for keyword, action in expected.items():
        row = profile.lookup(int(Tag(keyword)))
        assert row is not None and row.basic == action, keyword


def test_repeating_groups_are_matched() -> None:
    profile = load_basic_profile()
    assert profile.lookup(0x60024000) is not None and profile.lookup(0x60024000).basic == "X"  # type: ignore[union-attr]
    assert profile.lookup(0x50100010) is not None  # curve data
    assert profile.lookup(0x00280010) is None  # Rows: not in the table
