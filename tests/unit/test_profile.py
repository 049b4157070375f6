from __future__ import annotations

import json
from collections import Counter

import pytest
from pydicom.tag import Tag

from anon_consistent.profile import OPTION_ACTIONS, TABLE_PATH, ProfileRow, load_basic_profile, parse_profile

ALL_COLUMNS = {
    "retired",
    "in_std_comp_iod",
    "basic",
    "rtn_safe_priv",
    "rtn_uids",
    "rtn_dev_id",
    "rtn_inst_id",
    "rtn_pat_chars",
    "rtn_long_full_dates",
    "rtn_long_modif_dates",
    "clean_desc",
    "clean_struct_cont",
    "clean_graph",
}


def test_table_is_recorded_with_a_current_edition_and_its_provenance() -> None:
    document = json.loads(TABLE_PATH.read_text())
    year, letter = int(document["edition"][:4]), document["edition"][4:]
    assert (year, letter) >= (2024, "b")
    assert document["source"] and document["produced"]
    assert "77d60b856faf4223ab40a398c53130fc0ee9490d0d811ee3536e6d25c02ac717" in document["source"]
    assert len(document["attributes"]) > 600


def test_table_has_every_option_column_of_edition_2026c() -> None:
    document = json.loads(TABLE_PATH.read_text())
    assert document["edition"] == "2026c"
    assert set(document["columns"]) == ALL_COLUMNS
    assert set(OPTION_ACTIONS) == ALL_COLUMNS - {"retired", "in_std_comp_iod", "basic"}
    assert len(document["attributes"]) == 655
    for entry in document["attributes"]:
        assert ALL_COLUMNS <= set(entry), entry["tag"]


def test_each_column_has_the_number_of_entries_the_edition_has() -> None:
    # Counted in table_E.1-1 of part15.xml 2026c: a shifted or dropped column changes these.
    profile = load_basic_profile()
    counts = {column: Counter(row.option(column) for row in profile.rows) for column in OPTION_ACTIONS}
    assert counts["rtn_safe_priv"] == {"": 655}
    assert counts["rtn_uids"] == {"K": 60, "": 595}
    assert counts["rtn_dev_id"] == {"K": 48, "C": 11, "": 596}
    assert counts["rtn_inst_id"] == {"K": 10, "": 645}
    assert counts["rtn_pat_chars"] == {"K": 14, "C": 5, "": 636}
    assert counts["rtn_long_full_dates"] == {"K": 169, "": 486}
    assert counts["rtn_long_modif_dates"] == {"C": 169, "": 486}
    assert counts["clean_desc"] == {"C": 140, "": 515}
    assert counts["clean_struct_cont"] == {"C": 4, "": 651}
    assert counts["clean_graph"] == {"C": 4, "": 651}
    assert sum(row.retired for row in profile.rows) == 102
    assert sum(row.in_std_comp_iod for row in profile.rows) == 472


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


def test_option_columns_of_known_rows() -> None:
    profile = load_basic_profile()
    expected = {
        # keyword: (basic, {column: action}); every other option column is empty
        "PatientWeight": ("X", {"rtn_pat_chars": "K"}),
        "PatientAge": ("X", {"rtn_pat_chars": "K"}),
        "Allergies": ("X", {"rtn_pat_chars": "C", "clean_desc": "C"}),
        "StationName": ("X/Z/D", {"rtn_dev_id": "K"}),
        "InstitutionName": ("X/Z/D", {"rtn_inst_id": "K"}),
        "ROIName": ("Z", {"clean_desc": "C"}),
        "StudyDate": ("Z", {"rtn_long_full_dates": "K", "rtn_long_modif_dates": "C"}),
        "StudyInstanceUID": ("U", {"rtn_uids": "K"}),
        "AcquisitionContextSequence": ("X/Z", {"clean_struct_cont": "C"}),
        "GraphicAnnotationSequence": ("D", {"clean_graph": "C"}),
    }
    for keyword, (basic, options) in expected.items():
        row = profile.lookup(int(Tag(keyword)))
        assert row is not None and row.basic == basic, keyword
        assert {column: row.option(column) for column in OPTION_ACTIONS if row.option(column)} == options, keyword
    overlay = profile.lookup(0x60023000)
    assert overlay is not None and overlay.clean_graph == "C" and overlay.in_std_comp_iod
    curve = profile.lookup(0x50100010)
    assert curve is not None and curve.retired and curve.clean_graph == "C"


def test_private_attributes_row_is_kept_apart() -> None:
    profile = load_basic_profile()
    assert profile.private is not None
    assert profile.private.basic == "X" and profile.private.rtn_safe_priv == "C"
    assert profile.lookup(0x00091001) is None


def test_repeating_groups_are_matched() -> None:
    profile = load_basic_profile()
    assert profile.lookup(0x60024000) is not None and profile.lookup(0x60024000).basic == "X"  # type: ignore[union-attr]
    assert profile.lookup(0x50100010) is not None  # curve data
    assert profile.lookup(0x00280010) is None  # Rows: not in the table


def _document(**entry: object) -> dict[str, object]:
    row = {"tag": "00101030", "name": "Patient's Weight", "keyword": "PatientWeight", "basic": "X", **entry}
    return {"edition": "test", "attributes": [row]}


def test_unknown_action_codes_are_rejected_per_column() -> None:
    with pytest.raises(ValueError, match="rtn_pat_chars"):
        parse_profile(_document(rtn_pat_chars="Q"))
    with pytest.raises(ValueError, match="clean_desc"):
        parse_profile(_document(clean_desc="K"))  # Clean options only clean
    with pytest.raises(ValueError, match="Basic"):
        parse_profile(_document(basic="K/Z"))
    with pytest.raises(ValueError, match="retired"):
        parse_profile(_document(retired="Y"))


def test_documents_and_rows_with_only_the_original_columns_still_work() -> None:
    profile = parse_profile(_document(rtn_long_modif_dates=""))
    row = profile.lookup(0x00101030)
    assert row is not None and row.rtn_pat_chars == "" and not row.retired and profile.private is None
    legacy = ProfileRow(tag="00080020", name="Study Date", keyword="StudyDate", basic="Z", rtn_long_modif_dates="C")
    assert legacy.option("rtn_long_full_dates") == "" and legacy.option("rtn_long_modif_dates") == "C"
    with pytest.raises(KeyError):
        legacy.option("basic")
