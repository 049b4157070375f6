"""Sequence paths applied to real instances: an enhanced multi-frame SEG (functional groups) and built nested items."""

from __future__ import annotations

import json
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from anon_consistent.options import parse_options
from tests.dicom_data import encode, read
from tests.engine import OfflineEngine

PHILIPS = "Philips MR Imaging DD 005"
PRIVATE_SEQUENCE = 0x2005140F
PRIVATE_TEXT = 0x20051401


def liver() -> Dataset:
    """pydicom's SEG (2 dimension indices, 3 frames), each frame with a Philips-like private sequence and text."""
    dataset = read("liver_1frame.dcm")
    for number, frame in enumerate(dataset.PerFrameFunctionalGroupsSequence):
        frame.add_new(0x20050014, "LO", PHILIPS)
        inner = Dataset()
        inner.SOPInstanceUID = generate_uid()
        inner.InstanceCreationDate = "20140101"
        frame.add_new(PRIVATE_SEQUENCE, "SQ", Sequence([inner]))
        frame.add_new(PRIVATE_TEXT, "LO", f"frame {number}")
    return dataset


def anonymize(dataset: Dataset, body: dict[str, Any]) -> Dataset:
    return OfflineEngine().run([encode(dataset)], parse_options(json.dumps(body)))[0]


def source_image_uid(frame: Dataset) -> str:
    return str(frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID)


def test_an_index_replaces_in_that_item_only_and_star_inserts_in_every_item() -> None:
    body = {
        "Replace": {
            "DimensionIndexSequence[1].DimensionDescriptionLabel": "Position",
            "DimensionIndexSequence[*].PatientName": "Doe",
        }
    }
    result = anonymize(liver(), body)
    assert [item.DimensionDescriptionLabel for item in result.DimensionIndexSequence] == [
        "ReferencedSegmentNumber",
        "Position",
    ]
    assert [str(item.PatientName) for item in result.DimensionIndexSequence] == ["Doe", "Doe"]


def test_an_index_beyond_the_items_or_an_absent_sequence_creates_nothing() -> None:
    body = {
        "Replace": {
            "DimensionIndexSequence[7].DimensionDescriptionLabel": "x",
            "ReferencedStudySequence[0].StudyDescription": "x",
        }
    }
    plain = anonymize(liver(), {})
    result = anonymize(liver(), body)
    assert "ReferencedStudySequence" not in result
    assert [(item.keys(), item.DimensionDescriptionLabel) for item in result.DimensionIndexSequence] == [
        (item.keys(), item.DimensionDescriptionLabel) for item in plain.DimensionIndexSequence
    ]


def test_a_path_remove_acts_at_its_places_only() -> None:
    body = {"Remove": ["PerFrameFunctionalGroupsSequence[1].FrameContentSequence[*].DimensionIndexValues"]}
    frames = anonymize(liver(), body).PerFrameFunctionalGroupsSequence
    assert ["DimensionIndexValues" in frame.FrameContentSequence[0] for frame in frames] == [True, False, True]


def test_a_path_keep_of_a_uid_keeps_it_there_while_the_same_uid_elsewhere_is_remapped() -> None:
    source = liver()
    original = source_image_uid(source.PerFrameFunctionalGroupsSequence[1])
    body = {"Keep": ["PerFrameFunctionalGroupsSequence[1].DerivationImageSequence[0].SourceImageSequence[0].0008-1155"]}
    result = anonymize(source, body)
    frames = result.PerFrameFunctionalGroupsSequence
    assert source_image_uid(frames[1]) == original
    referenced = result.ReferencedSeriesSequence[0].ReferencedInstanceSequence[1].ReferencedSOPInstanceUID
    assert referenced != original and referenced.startswith("2.25.")
    assert source_image_uid(frames[0]) != source_image_uid(source.PerFrameFunctionalGroupsSequence[0])


def test_a_path_keep_of_a_sequence_keeps_its_subtree_word_for_word() -> None:
    source = liver()
    before = [item.to_json_dict() for item in source.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence]
    result = anonymize(source, {"Keep": ["PerFrameFunctionalGroupsSequence[0].DerivationImageSequence"]})
    frames = result.PerFrameFunctionalGroupsSequence
    assert [item.to_json_dict() for item in frames[0].DerivationImageSequence] == before
    assert source_image_uid(frames[1]) != source_image_uid(source.PerFrameFunctionalGroupsSequence[1])


def test_a_private_element_kept_by_path_keeps_its_creator() -> None:
    result = anonymize(liver(), {"Keep": ["PerFrameFunctionalGroupsSequence[2].2005,1401"]})
    frames = result.PerFrameFunctionalGroupsSequence
    assert frames[2][PRIVATE_TEXT].value == "frame 2" and frames[2][0x20050014].value == PHILIPS
    assert PRIVATE_TEXT not in frames[0] and 0x20050014 not in frames[0]


def test_a_path_through_a_private_sequence_keeps_its_uid_where_the_sequence_survives() -> None:
    source = liver()
    originals = [str(f[PRIVATE_SEQUENCE].value[0].SOPInstanceUID) for f in source.PerFrameFunctionalGroupsSequence]
    path = "(5200,9230)[*].2005,140f[*].SOPInstanceUID"
    kept = anonymize(source, {"Keep": [path], "KeepPrivateTags": True}).PerFrameFunctionalGroupsSequence
    assert [str(f[PRIVATE_SEQUENCE].value[0].SOPInstanceUID) for f in kept] == originals
    remapped = anonymize(source, {"KeepPrivateTags": True}).PerFrameFunctionalGroupsSequence
    assert not {str(f[PRIVATE_SEQUENCE].value[0].SOPInstanceUID) for f in remapped} & set(originals)
    # Without KeepPrivateTags the private sequence goes, and nothing is kept inside it.
    gone = anonymize(source, {"Keep": [path]}).PerFrameFunctionalGroupsSequence
    assert not any(PRIVATE_SEQUENCE in frame for frame in gone)


def test_nothing_is_kept_where_the_enclosing_sequence_did_not_survive() -> None:
    body = {
        "Remove": ["DerivationImageSequence"],
        "Keep": ["PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence"],
    }
    frames = anonymize(liver(), body).PerFrameFunctionalGroupsSequence
    assert not any("DerivationImageSequence" in frame for frame in frames)


def test_plain_rules_still_apply_at_every_depth_beside_a_path() -> None:
    body = {
        "Remove": ["CodeMeaning"],
        "Keep": ["5200,9230[0].DerivationImageSequence[0].DerivationCodeSequence[0].CodeMeaning"],
    }
    frames = anonymize(liver(), body).PerFrameFunctionalGroupsSequence
    codes = [frame.DerivationImageSequence[0].DerivationCodeSequence[0] for frame in frames]
    assert ["CodeMeaning" in code for code in codes] == [True, False, False]
    assert codes[0].CodeMeaning == "Segmentation"


def test_a_replaced_uid_is_final_and_the_same_uid_elsewhere_is_remapped() -> None:
    source = liver()
    original = source.DimensionOrganizationSequence[0].DimensionOrganizationUID
    result = anonymize(source, {"Replace": {"DimensionOrganizationSequence[0].DimensionOrganizationUID": "1.2.3.4"}})
    assert result.DimensionOrganizationSequence[0].DimensionOrganizationUID == "1.2.3.4"
    others = {item.DimensionOrganizationUID for item in result.DimensionIndexSequence}
    assert len(others) == 1 and not others & {"1.2.3.4", original}


def test_items_keep_their_places_when_the_walk_empties_one() -> None:
    """A path addresses items by index after the walk: an item emptied by it must stay in place."""
    dataset = read("CT_small.dcm")
    emptied = Dataset()
    emptied.InstitutionName = "Hospital"  # removed by the profile, leaving the item empty
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    dataset.ReferencedImageSequence = Sequence([emptied, referenced])
    body = {"Replace": {"ReferencedImageSequence[1].ReferencedFrameNumber": "3"}}
    items = anonymize(dataset, body).ReferencedImageSequence
    assert len(items) == 2 and len(items[0]) == 0
    assert items[1].ReferencedFrameNumber == 3 and items[1].ReferencedSOPClassUID == referenced.ReferencedSOPClassUID


def test_a_path_keep_in_a_nested_item_keeps_its_identifiers_and_the_rest_is_anonymized() -> None:
    dataset = read("CT_small.dcm")
    study = Dataset()
    study.PatientID = "HELLO"
    study.ReferencedSOPInstanceUID = "1.2.3.4.5"
    mapping = Dataset()
    mapping.StudyDate = "20200101"
    mapping.ReferencedStudySequence = Sequence([study])
    dataset.MappingResourceIdentificationSequence = Sequence([mapping])
    body = {"Keep": ["MappingResourceIdentificationSequence[0].ReferencedStudySequence"]}
    item = anonymize(dataset, body).MappingResourceIdentificationSequence[0]
    assert item.ReferencedStudySequence[0].PatientID == "HELLO"
    assert item.ReferencedStudySequence[0].ReferencedSOPInstanceUID == "1.2.3.4.5"
    assert item.StudyDate != "20200101"


def test_deidentification_method_lists_the_paths_by_tag_number() -> None:
    body = {
        "Keep": ["(5200,9230)[*].2005,140f[*].SOPInstanceUID"],
        "Remove": ["PerFrameFunctionalGroupsSequence[1].FrameContentSequence[*].DimensionIndexValues"],
        "Replace": {"DimensionIndexSequence[1].DimensionDescriptionLabel": "Position"},
        "KeepPrivateTags": True,
    }
    method = list(anonymize(liver(), body).DeidentificationMethod)
    assert "Keep: (5200,9230)[*].(2005,140F)[*].(0008,0018)" in method
    assert "Remove: (5200,9230)[1].(0020,9111)[*].(0020,9157)" in method
    assert "Replace: (0020,9222)[1].(0020,9421)" in method
    assert not any("Position" in value for value in method)


def test_a_path_replace_uses_the_vr_the_file_gives_a_us_or_ss_attribute() -> None:
    dataset = read("CT_small.dcm")
    lut = Dataset()
    lut.add_new("LUTDescriptor", "SS", [4096, -1024, 16])
    lut.add_new("LUTData", "US", [0, 1, 2, 3])
    dataset.VOILUTSequence = Sequence([lut])
    output = anonymize(dataset, {"Replace": {"VOILUTSequence[0].LUTDescriptor": "4096\\-1\\16"}})
    element = output.VOILUTSequence[0]["LUTDescriptor"]
    assert element.VR == "SS" and list(element.value) == [4096, -1, 16]
