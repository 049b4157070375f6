"""What Orthanc's own anonymization tests check about options, on our route (issue 10, item 8).

Tag syntax, private tags, Force and KeepSource, re-created in this
project's words. Where we deliberately differ (README "Differences from
native /anonymize"), the test asserts our behaviour and names the difference.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import ct_study
from tests.integration.native_helpers import anonymize, datasets_of, instance_count, upload
from tests.orthanc_server import OrthancServer

TAG_FORMS = {
    "keyword": lambda keyword, group, element: keyword,
    "gggg,eeee": lambda keyword, group, element: f"{group},{element}",
    "gggg-eeee": lambda keyword, group, element: f"{group}-{element}",
    "ggggeeee": lambda keyword, group, element: f"{group}{element}",
    "(gggg,eeee)": lambda keyword, group, element: f"({group},{element})",
    "lower-case hex": lambda keyword, group, element: f"{group},{element.lower()}",
}


@pytest.mark.parametrize("form", TAG_FORMS)
def test_keep_replace_and_remove_accept_each_tag_syntax(orthanc: OrthancServer, form: str) -> None:
    name = TAG_FORMS[form]
    original = ct_study()[0]
    original.StudyDescription, original.SeriesDescription = "Knee left", "T1 sagittal"
    (source,) = upload(orthanc, [original])
    body = {
        "Project": "tag-syntax",
        "Keep": [name("StudyDescription", "0008", "1030")],
        "Replace": {name("SeriesDescription", "0008", "103E"): "Hello"},
        "Remove": [name("ImageType", "0008", "0008")],  # kept by default
    }

    answer = anonymize(orthanc, "instances", source["ID"], body)

    (result,) = datasets_of(orthanc, "series", orthanc.json(f"/instances/{answer['ID']}")["ParentSeries"])
    assert result.StudyDescription == "Knee left"
    assert result.SeriesDescription == "Hello"
    assert "ImageType" not in result and "ImageType" in original


def with_private_block(dataset: Dataset) -> Dataset:
    dataset.add_new(0x00E10010, "LO", "ELSCINT1")
    dataset.add_new(0x00E110C2, "LO", "private note")
    return dataset


@pytest.mark.parametrize(
    ("body", "kept"),
    [({}, False), ({"Keep": ["00e1-10c2"]}, True), ({"Keep": ["00E1,10C2"]}, True), ({"KeepPrivateTags": True}, True)],
)
def test_private_tags_go_unless_kept(orthanc: OrthancServer, body: dict[str, Any], kept: bool) -> None:
    (source,) = upload(orthanc, [with_private_block(ct_study()[0])])

    answer = anonymize(orthanc, "instances", source["ID"], {"Project": "private", **body})

    content = orthanc.get(f"/instances/{answer['ID']}/content/00e1-10c2")
    if kept:
        assert content.status_code == 200 and content.text.strip("\x00 ") == "private note"
    else:
        assert content.status_code == 404


def test_replace_of_a_private_attribute_is_refused(orthanc: OrthancServer) -> None:
    # Difference: native writes any value into a private attribute; here the
    # VR of a private attribute is unknown, so no valid value can be checked.
    (source,) = upload(orthanc, [with_private_block(ct_study()[0])])
    before = instance_count(orthanc)
    response = orthanc.post(f"/anon-consistent/instances/{source['ID']}", {"Replace": {"00e1,10c2": "Hello"}})
    assert response.status_code == 400 and "00E1,10C2" in response.text.upper()
    assert instance_count(orthanc) == before


def test_the_documented_example_with_force(orthanc: OrthancServer) -> None:
    original = with_private_block(ct_study()[0])
    original.StudyDescription, original.SeriesDescription, original.InstitutionName = "Knee", "T1", "Saint Example"
    (source,) = upload(orthanc, [original])
    body = {
        "Project": "example",
        "Replace": {"PatientName": "hello", "0010-0020": "world"},
        "Keep": ["StudyDescription", "SeriesDescription"],
        "KeepPrivateTags": True,
        "Force": True,
    }

    answer = anonymize(orthanc, "instances", source["ID"], body)

    (result,) = datasets_of(orthanc, "series", orthanc.json(f"/instances/{answer['ID']}")["ParentSeries"])
    assert (str(result.PatientName), result.PatientID) == ("hello", "world")
    assert (result.StudyDescription, result.SeriesDescription) == ("Knee", "T1")
    assert result[0x00E110C2].value == "private note"
    assert "InstitutionName" not in result


@pytest.mark.parametrize(
    "rule",
    [
        {"Keep": ["StudyInstanceUID"]},
        {"Keep": ["SeriesInstanceUID"]},
        {"Keep": ["SOPInstanceUID"]},
        {"Replace": {"StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1.2"}},
        {"Replace": {"SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.1.3"}},
        {"Replace": {"SOPInstanceUID": "1.2.826.0.1.3680043.8.498.1.4"}},
    ],
    ids=lambda rule: "-".join(f"{k}:{v if isinstance(v, list) else list(v)}" for k, v in rule.items()),
)
def test_keep_or_replace_of_an_identifying_uid_needs_force(orthanc: OrthancServer, rule: dict[str, Any]) -> None:
    (source,) = upload(orthanc, [ct_study()[0]])
    project = {"Project": "force"}
    before = instance_count(orthanc)

    refused = orthanc.post(f"/anon-consistent/studies/{source['ParentStudy']}", {**project, **rule})
    assert refused.status_code == 400 and "Force" in refused.text
    assert instance_count(orthanc) == before

    answer = anonymize(orthanc, "studies", source["ParentStudy"], {**project, **rule, "Force": True})
    assert instance_count(orthanc) == before + 1
    assert orthanc.delete(answer["Path"]).status_code == 200
    assert instance_count(orthanc) == before


def test_a_uid_replaced_by_a_non_uid_is_refused_even_with_force(orthanc: OrthancServer) -> None:
    # Difference: native stores "world" as a StudyInstanceUID; it is no UID.
    (source,) = upload(orthanc, [ct_study()[0]])
    before = instance_count(orthanc)
    body = {"Replace": {"StudyInstanceUID": "world"}, "Force": True}
    assert orthanc.post(f"/anon-consistent/studies/{source['ParentStudy']}", body).status_code == 400
    assert instance_count(orthanc) == before


@pytest.mark.parametrize(("keep_source", "source_left"), [(None, True), (True, True), (False, False)])
def test_keep_source(orthanc: OrthancServer, keep_source: bool | None, source_left: bool) -> None:
    (source,) = upload(orthanc, [ct_study()[0]])
    before = instance_count(orthanc)
    body: dict[str, Any] = {"Project": "keep-source"}
    if keep_source is not None:
        body["KeepSource"] = keep_source

    answer = anonymize(orthanc, "studies", source["ParentStudy"], body)

    assert answer["SourceDeleted"] is not source_left
    assert orthanc.get(f"/instances/{source['ID']}").status_code == (200 if source_left else 404)
    assert instance_count(orthanc) == before + (1 if source_left else 0)
    orthanc.delete(f"/studies/{answer['ID']}")
    assert instance_count(orthanc) == before - (0 if source_left else 1)
