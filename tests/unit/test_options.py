from __future__ import annotations

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
        (b'{"Replace": {"FrameOfReferenceUID": "1.2.x"}}', "not a valid UID"),
        (b'{"Replace": {"PatientName": 3}}', "must be a string"),
        (b'{"Replace": []}', "must be an object"),
        (b'{"Replace": {"StudyInstanceUID": "1.2.3"}}', 'requires "Force": true'),
        (b'{"Keep": ["PatientName"], "Remove": ["PatientName"]}', "both kept"),
        (b'{"Project": "bad name!"}', "Project"),
        (b'{"Frobnicate": true}', "Unknown option"),
        (b'{"Replace": {"Rows": "abc"}}', "must be a number"),
        (b'{"Replace": {"SliceThickness": "thin"}}', "must be a number"),
        (b'{"Replace": {"PixelData": "x"}}', "binary attribute"),
        (b'{"Replace": {"Modality": "A_VERY_LONG_MODALITY_CODE"}}', "longer than VR CS"),
        (b'{"Replace": {"TransferSyntaxUID": "1.2.3"}}', "file meta"),
        (b'{"Remove": ["SOPInstanceUID"]}', "cannot be removed"),
        (b'{"DicomVersion": "2021b"}', "not supported"),
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
