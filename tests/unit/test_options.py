from __future__ import annotations

import json

import pytest
from pydicom.tag import Tag

from anon_consistent.options import OptionsError, parse_options, parse_tag


def test_empty_body_means_defaults() -> None:
    for body in (b"", b"  ", None):
        options = parse_options(body)
        assert options.keep_source and not options.keep_private_tags and options.project == "default"


def test_orthanc_style_options_are_parsed() -> None:
    options = parse_options(
        b'{"Replace": {"PatientName": "X", "0020,0052": "1.2.3"}, "Keep": ["StudyDescription"],'
        b' "Remove": ["(0008,0080)"], "KeepPrivateTags": true, "KeepSource": false, "Project": "trial-1"}'
    )
    assert options.replace == {Tag("PatientName"): "X", Tag("FrameOfReferenceUID"): "1.2.3"}
    assert options.keep == {Tag("StudyDescription")}
    assert options.remove == {Tag("InstitutionName")}
    assert options.keep_private_tags and not options.keep_source and options.project == "trial-1"
    assert options.uid_overrides == {Tag("FrameOfReferenceUID")}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bad", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"KeepSource": "no"}', "KeepSource"),
        (b'{"Keep": "PatientName"}', "list of tag names"),
        (b'{"Keep": ["NoSuchTag"]}', "Unknown DICOM tag"),
        (b'{"Replace": {"FrameOfReferenceUID": "1.2.x"}}', "must be a valid UID"),
        (b'{"Replace": {"PatientName": 3}}', "must be a string"),
        (b'{"Replace": []}', "must be an object"),
        (b'{"Replace": {"StudyInstanceUID": "1.2.3"}}', 'requires "Force": true'),
        (b'{"Keep": ["PatientName"], "Remove": ["PatientName"]}', "both kept"),
        (b'{"Project": "bad name!"}', "Project"),
        (b'{"Frobnicate": true}', "Unknown option"),
        (b'{"Replace": {"Rows": "abc"}}', "must be an integer"),
        (b'{"Replace": {"SliceThickness": "thin"}}', "must be a decimal string"),
        (b'{"Replace": {"PixelData": "x"}}', "binary attribute"),
        (b'{"Replace": {"Modality": "A_VERY_LONG_MODALITY_CODE"}}', "at most 16 characters.* for VR CS"),
        (b'{"Replace": {"TransferSyntaxUID": "1.2.3"}}', "file meta"),
        (b'{"Remove": ["SOPInstanceUID"]}', "cannot be removed: Orthanc could not store"),
        (b'{"Remove": ["SOPClassUID"]}', "cannot be removed: no reader"),
        (b'{"Remove": ["PatientID"], "Force": true}', "PatientID cannot be removed: every patient would be merged"),
        (b'{"DicomVersion": "2021b"}', "not supported"),
        (b'{"Remove": ["0002,0010"]}', "TransferSyntaxUID .*: it is a file meta attribute"),
        (b'{"Keep": ["ReferencedImageSequence[0].FFFE,E000"]}', "Item .*: it is an item or delimiter"),
        (b'{"Remove": ["0008,0000[0].PatientName"]}', "a group length"),
        (b'{"Keep": ["0010,xx20"]}', 'Unknown DICOM tag "0010,xx20"'),
        (b'{"Transcode": "1.2.840.10008.1.2.4.50"}', '"Transcode" is not supported: results keep'),
        (b'{"Priority": "high"}', "Priority"),
    ],
)
def test_bad_bodies_are_refused_with_a_clear_message(body: bytes, message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        parse_options(body)


def test_orthanc_job_options_are_accepted() -> None:
    options = parse_options(b'{"Priority": 5, "Permissive": true, "Asynchronous": true}')
    assert options.priority == 5 and options.permissive and options.asynchronous
    assert parse_options(b'{"Synchronous": false}').asynchronous
    assert not parse_options(b'{"Synchronous": true}').asynchronous
    with pytest.raises(OptionsError, match="contradict"):
        parse_options(b'{"Synchronous": true, "Asynchronous": true}')


def test_force_allows_replacing_study_uid() -> None:
    options = parse_options(b'{"Replace": {"StudyInstanceUID": "1.2.3"}, "Force": true}')
    assert options.replace[Tag("StudyInstanceUID")] == "1.2.3"


@pytest.mark.parametrize("text", ["PatientName", "0010,0010", "(0010,0010)", "00100010"])
def test_tag_spellings(text: str) -> None:
    assert parse_tag(text) == Tag(0x00100010)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"Rows": "70000"},
            '"Replace" value for Rows (0028,0010) must be an integer from 0 to 65535 for VR US: "70000"',
        ),
        ({"Rows": "-1"}, '"Replace" value for Rows (0028,0010) must be an integer from 0 to 65535 for VR US: "-1"'),
        ({"StudyDate": "20240230"}, "StudyDate (0008,0020) must be a valid date YYYYMMDD such as 20240131 for VR DA"),
        ({"StudyTime": "25"}, "StudyTime (0008,0030) must be a valid time"),
        ({"AcquisitionDateTime": "2024013125"}, "must be a valid date-time"),
        ({"SeriesNumber": "99999999999"}, "SeriesNumber (0020,0011) must be an integer string"),
        ({"SliceThickness": "1.23456789012345678"}, "must be a decimal string of at most 16 characters"),
        (
            {"PixelSpacing": "0.5"},
            'PixelSpacing (0028,0030) must have exactly 2 values separated by "\\" (VM 2), not 1',
        ),
        ({"StudyDescription": "x" * 65}, "at most 64 characters long for VR LO"),
        ({"PatientName": "Doe^John\n"}, 'control characters such as a newline for VR PN: "Doe^John\\n"'),
        ({"FrameOfReferenceUID": "1.2.3\n"}, "must be a valid UID"),
        ({"0009,0010": "x"}, "private attribute (0009,0010)"),
        ({"FFFEE000": "x"}, "Item (FFFE,E000): it is an item or delimiter, not an attribute of a data set"),
        ({"AffectedSOPClassUID": "1.2"}, "not an attribute of a data set"),
        ({"0010,9999": "x"}, "not in the DICOM dictionary"),
        ({"60003000": "x"}, "binary attribute OverlayData (6000,3000) (VR OB or OW)"),
        ({"Rows": "1", "0028,0010": "2"}, "names Rows (0028,0010) twice"),
    ],
)
def test_replace_values_that_cannot_be_encoded_are_refused(replace: dict[str, str], message: str) -> None:
    with pytest.raises(OptionsError) as refused:
        parse_options(json.dumps({"Replace": replace}))
    assert message in str(refused.value)


def test_replace_values_that_fit_are_accepted() -> None:
    replace = {
        "Rows": "512",
        "StudyDate": "20240229",
        "PixelSpacing": "0.5\\0.5",
        "SmallestImagePixelValue": "-1",
        "LargestImagePixelValue": "65535",
        "PatientComments": "two\r\nlines \\ one value",
        "ImageType": "",
    }
    assert parse_options(json.dumps({"Replace": replace})).replace == {Tag(k): v for k, v in replace.items()}


@pytest.mark.parametrize("option", ["Keep", "Remove"])
@pytest.mark.parametrize(
    "text", ["", "  ", "()", "0010,00", "ZZZZ,ZZZZ", "(0010,0010", "0,0,1,0,0,0,1,0", "Patient Name"]
)
def test_garbage_tag_names_are_refused(option: str, text: str) -> None:
    with pytest.raises(OptionsError) as refused:
        parse_options(json.dumps({option: [text]}))
    message = str(refused.value)
    assert message.startswith(f'"{option}": ') and json.dumps(text) in message and '"(0010,0010)"' in message
    assert ("Empty tag name" if not text.strip() else "Unknown DICOM tag") in message


def test_empty_tag_name_is_not_the_tag_whose_keyword_is_empty() -> None:
    with pytest.raises(OptionsError, match="Empty tag name"):
        parse_options(b'{"Replace": {"": "x"}}')
    with pytest.raises(OptionsError, match="Empty tag name"):
        parse_tag("")


@pytest.mark.parametrize("text", ["( 0010 , 0010 )", "0010, 0010", " PatientName ", "0010-0010", "(0010,0010)"])
def test_tag_spellings_with_spaces(text: str) -> None:
    assert parse_tag(text) == Tag(0x00100010)


@pytest.mark.parametrize("project", ["abc\n", "abc\r\n", " abc", "", "a" * 65, "-abc"])
def test_project_names_must_match_entirely(project: str) -> None:
    with pytest.raises(OptionsError, match='"Project" must be'):
        parse_options(json.dumps({"Project": project}))


def test_deep_or_oversized_bodies_are_refused_before_parsing() -> None:
    with pytest.raises(OptionsError, match="levels deep"):
        parse_options(b'{"Keep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(OptionsError, match="bytes"):
        parse_options(b'{"Project": "' + b"x" * (2 * 1024 * 1024) + b'"}')


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"Options": ["RetainUIDs"], "Options": []}', "Options"),
        ('{"Replace": {"PatientName": "A", "PatientName": "B"}}', "PatientName"),
        ('{"Keep": [{"Creator": "A", "Element": "0019,xx0C", "Creator": "B"}]}', "Creator"),
    ],
)
def test_a_repeated_key_answers_400_naming_it(body: str, key: str) -> None:
    with pytest.raises(OptionsError, match=f'The request body names "{key}" twice'):
        parse_options(body)


# Sequence paths (Orthanc >= 1.9.4): Seq[n].Tag and Seq[*].Tag, at their place only.

SUBSEQUENCE_BODY = {
    "Replace": {
        "PatientName": "Doe",
        "DimensionIndexSequence[1].DimensionDescriptionLabel": "Label",
        "(0020,9221)[0].0020-9164": "1.2.3.4",
    },
    "Remove": ["SharedFunctionalGroupsSequence[*].ReferencedImageSequence[*].ReferencedSOPInstanceUID", "0010-1000"],
    "Keep": ["DimensionIndexSequence", "PerFrameFunctionalGroupsSequence[*].2005,140f[*].SOPInstanceUID"],
}


def test_each_option_splits_into_plain_tags_and_paths() -> None:
    options = parse_options(json.dumps(SUBSEQUENCE_BODY))
    assert options.replace == {Tag("PatientName"): "Doe"}
    assert {str(p): v for p, v in options.replace_paths.items()} == {
        "(0020,9222)[1].(0020,9421)": "Label",
        "(0020,9221)[0].(0020,9164)": "1.2.3.4",
    }
    assert options.remove == {Tag("OtherPatientIDs")}
    assert [str(p) for p in options.remove_paths] == ["(5200,9229)[*].(0008,1140)[*].(0008,1155)"]
    assert options.keep == {Tag("DimensionIndexSequence")}
    assert [str(p) for p in options.keep_paths] == ["(5200,9230)[*].(2005,140F)[*].(0008,0018)"]
    assert options.uid_overrides == frozenset()  # a path's UID is never pinned project-wide


def test_a_path_never_needs_force_even_to_a_study_uid() -> None:
    body = {
        "Replace": {"DimensionIndexSequence[0].StudyInstanceUID": "1.2.3"},
        "Keep": ["ReferencedSeriesSequence[*].SeriesInstanceUID"],
        "Remove": ["ReferencedSeriesSequence[0].SOPInstanceUID"],
    }
    options = parse_options(json.dumps(body))
    assert len(options.replace_paths) == len(options.keep_paths) == len(options.remove_paths) == 1


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({"DimensionIndexSequence[0].Rows": "70000"}, "Rows (0028,0010) (in DimensionIndexSequence[0].Rows)"),
        ({"DimensionIndexSequence[0].FrameOfReferenceUID": "world"}, "must be a valid UID"),
        ({"DimensionIndexSequence[0].0009,1001": "x"}, "cannot set the private attribute (0009,1001)"),
        ({"DimensionIndexSequence[0].ReferencedImageSequence": "x"}, "cannot set the sequence ReferencedImageSequence"),
        ({"DimensionIndexSequence[0].PixelData": "x"}, "binary attribute PixelData"),
        ({"DimensionIndexSequence[0].TransferSyntaxUID": "1.2"}, "file meta attribute"),
        ({"0020,9222[0].PatientName": "a", "DimensionIndexSequence[0].0010-0010": "b"}, "twice"),
    ],
)
def test_a_path_replace_is_checked_against_its_final_tag(replace: dict[str, str], message: str) -> None:
    with pytest.raises(OptionsError) as refused:
        parse_options(json.dumps({"Replace": replace}))
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Keep": ["DimensionIndexSequence.DimensionDescriptionLabel"]}, '"Keep": "DimensionIndexSequence.Dim'),
        ({"Remove": ["PatientName[0].PatientID"]}, '"Remove": "PatientName[0].PatientID": "PatientName" is not a'),
        ({"Replace": {"DimensionIndexSequence[1]": "x"}}, '"Replace": "DimensionIndexSequence[1]": a path ends'),
        (
            {
                "Keep": ["DimensionIndexSequence[*].DimensionDescriptionLabel"],
                "Replace": {"0020,9222[2].0020,9421": "x"},
            },
            "can reach the same place",
        ),
    ],
)
def test_bad_or_conflicting_paths_answer_400_naming_the_entry(body: dict[str, object], message: str) -> None:
    with pytest.raises(OptionsError) as refused:
        parse_options(json.dumps(body))
    assert message in str(refused.value)


def test_a_path_inside_a_kept_subtree_with_another_operation_is_a_conflict() -> None:
    body = {
        "Keep": ["SharedFunctionalGroupsSequence[0].ReferencedImageSequence"],
        "Remove": ["SharedFunctionalGroupsSequence[*].ReferencedImageSequence[1].ReferencedSOPClassUID"],
    }
    with pytest.raises(OptionsError, match="can reach the same place"):
        parse_options(json.dumps(body))


def test_a_plain_tag_and_a_path_to_it_may_have_different_operations() -> None:
    body = {"Remove": ["StudyDescription"], "Keep": ["ReferencedStudySequence[0].StudyDescription"]}
    options = parse_options(json.dumps(body))
    assert options.remove == {Tag("StudyDescription")} and len(options.keep_paths) == 1


@pytest.mark.parametrize("element", ["0019-xx0C", "(0019,xx0C)", "0019xx0C"])
def test_keep_of_a_blockless_private_element_in_any_form_asks_for_its_creator(element: str) -> None:
    with pytest.raises(OptionsError, match="does not say which Private Creator"):
        parse_options(json.dumps({"Keep": [element]}))
    options = parse_options(json.dumps({"Keep": [{"Creator": "ACME", "Element": element}]}))
    assert [(a.group, a.low_byte) for a in options.keep_private] == [(0x0019, 0x0C)]


def test_deidentification_method_lists_paths_by_number() -> None:
    values = parse_options(json.dumps(SUBSEQUENCE_BODY)).describe()
    assert "Keep: (5200,9230)[*].(2005,140F)[*].(0008,0018)" in values
    assert "Replace: (0020,9221)[0].(0020,9164)" in values
    assert "Remove: (5200,9229)[*].(0008,1140)[*].(0008,1155)" in values
    assert not any("1.2.3.4" in value or "Label" in value for value in values)


def test_a_request_with_too_many_paths_is_refused_before_any_matching() -> None:
    keep = [f"ReferencedImageSequence[{i}].ReferencedSOPInstanceUID" for i in range(200)]
    remove = [f"ReferencedImageSequence[{i}].ReferencedSOPClassUID" for i in range(100)]
    with pytest.raises(OptionsError, match="300 sequence paths in one request: at most 256"):
        parse_options(json.dumps({"Keep": keep, "Remove": remove}))


def test_an_index_beyond_a_billion_is_refused() -> None:
    with pytest.raises(OptionsError, match="an item index is a number"):
        parse_options(json.dumps({"Keep": ["ReferencedImageSequence[10000000000].ReferencedSOPInstanceUID"]}))


def test_removing_the_creator_of_a_private_element_kept_by_path_is_refused() -> None:
    body = {"Keep": ["ReferencedImageSequence[0].0009,1002"], "Remove": ["0009,0010"]}
    with pytest.raises(OptionsError, match="removes its block"):
        parse_options(json.dumps(body))
