"""Orthanc's tag forms and sequence paths on POST /anon-consistent/studies/{id}, in a real Orthanc.

The path options are those a native script sends to anonymize an enhanced
multi-frame instance (Orthanc >= 1.9.4); the results are native's except
where the README documents a difference (a plainly kept sequence still has
its UIDs remapped).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.dciodvfy import DCIODVFY, new_iod_errors
from tests.dicom_data import encoded, read, reidentified
from tests.integration.conftest import stored_bytes, stored_datasets
from tests.orthanc_server import OrthancServer

Upload = Callable[[list[Dataset]], str]
PRIVATE_SEQUENCE, CREATOR_SEQUENCE = 0x2005140F, 0x2005140E
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"

# What a native script sends (orthanc-tests' subsequence anonymization), with valid UIDs.
NATIVE_BODY = {
    "Replace": {
        "DimensionIndexSequence[1].DimensionDescriptionLabel": "Hello1",
        "DimensionOrganizationSequence[0].DimensionOrganizationUID": "1.2.3.4",
    },
    "Remove": ["SharedFunctionalGroupsSequence[*].ReferencedImageSequence[*].ReferencedSOPInstanceUID"],
    "Keep": [
        "ReferencedImageEvidenceSequence",
        "DimensionIndexSequence",
        "PerFrameFunctionalGroupsSequence[*].2005,140f[*].SOPInstanceUID",
        "(5200,9230)[*].2005,140f[*].(0008,0023)",
        "(5200,9230)[*].2005,140f[*].(0008,0033)",
    ],
    "KeepPrivateTags": True,
}


def enhanced_instance() -> Dataset:
    """pydicom's SEG with what the native test file has: private per-frame sequences, image references."""
    dataset = read("liver_1frame.dcm")
    references = [Dataset() for _ in range(3)]
    for item in references:
        item.ReferencedSOPClassUID = CT_IMAGE
        item.ReferencedSOPInstanceUID = generate_uid()
    shared = dataset.SharedFunctionalGroupsSequence[0]
    shared.ReferencedImageSequence = Sequence(references)
    shared.add_new(0x20050014, "LO", "Philips MR Imaging DD 005")
    creator = Dataset()
    creator.InstanceCreatorUID = generate_uid()
    shared.add_new(CREATOR_SEQUENCE, "SQ", Sequence([creator]))
    for frame in dataset.PerFrameFunctionalGroupsSequence:
        frame.add_new(0x20050014, "LO", "Philips MR Imaging DD 005")
        inner = Dataset()
        inner.SOPInstanceUID = generate_uid()
        inner.ContentDate, inner.ContentTime = "20141008", "140641"
        frame.add_new(PRIVATE_SEQUENCE, "SQ", Sequence([inner]))
    evidence = Dataset()
    evidence.StudyInstanceUID = dataset.StudyInstanceUID
    evidence.ReferencedSeriesSequence = dataset.ReferencedSeriesSequence
    dataset.ReferencedImageEvidenceSequence = Sequence([evidence])
    return dataset


@pytest.fixture(scope="module")
def upload(orthanc: OrthancServer) -> Upload:
    """One instance under fresh UIDs (module-scoped, unlike conftest's), re-identified in place."""

    def do_upload(datasets: list[Dataset]) -> str:
        (answer,) = orthanc.upload_all(encoded(reidentified(datasets)))
        return str(answer["ParentStudy"])

    return do_upload


@pytest.fixture(scope="module")
def native_paths(orthanc: OrthancServer, upload: Upload) -> tuple[Dataset, Dataset, bytes, bytes]:
    """Source and result of the native path options (one call shared by this module's checks)."""
    source = enhanced_instance()
    study = upload([source])  # re-identified in place: ``source`` holds what Orthanc stores
    response = orthanc.post(f"/anon-consistent/studies/{study}", {**NATIVE_BODY, "Project": "paths-native"})
    assert response.status_code == 200, response.text
    result_id = response.json()["ID"]
    (result,) = stored_datasets(orthanc, "studies", result_id)
    (source_bytes,) = stored_bytes(orthanc, "studies", study)
    (result_bytes,) = stored_bytes(orthanc, "studies", result_id)
    return source, result, source_bytes, result_bytes


def test_native_path_replace_lands_at_its_place_with_a_final_value(native_paths: Any) -> None:
    source, result, _, _ = native_paths
    assert result.SOPInstanceUID != source.SOPInstanceUID and result.PatientID != source.PatientID
    labels = [item.DimensionDescriptionLabel for item in result.DimensionIndexSequence]
    assert labels == [source.DimensionIndexSequence[0].DimensionDescriptionLabel, "Hello1"]
    assert result.DimensionOrganizationSequence[0].DimensionOrganizationUID == "1.2.3.4"


def test_native_path_remove_acts_in_every_item(native_paths: Any) -> None:
    result = native_paths[1]
    items = result.SharedFunctionalGroupsSequence[0].ReferencedImageSequence
    assert len(items) == 3
    assert not any("ReferencedSOPInstanceUID" in item for item in items)
    assert all(item.ReferencedSOPClassUID == CT_IMAGE for item in items)


def test_native_path_keep_through_a_private_sequence_keeps_those_values(native_paths: Any) -> None:
    source, result, _, _ = native_paths
    for before, after in zip(
        source.PerFrameFunctionalGroupsSequence, result.PerFrameFunctionalGroupsSequence, strict=True
    ):
        kept, original = after[PRIVATE_SEQUENCE].value[0], before[PRIVATE_SEQUENCE].value[0]
        assert (kept.SOPInstanceUID, kept.ContentDate, kept.ContentTime) == (
            original.SOPInstanceUID,
            original.ContentDate,
            original.ContentTime,
        )
    creator = result.SharedFunctionalGroupsSequence[0][CREATOR_SEQUENCE].value[0].InstanceCreatorUID
    assert creator != source.SharedFunctionalGroupsSequence[0][CREATOR_SEQUENCE].value[0].InstanceCreatorUID


def test_plainly_kept_sequences_keep_their_items_with_uids_remapped_a_documented_difference(
    native_paths: Any,
) -> None:
    source, result, _, _ = native_paths
    organization = {item.DimensionOrganizationUID for item in result.DimensionIndexSequence}
    original = source.DimensionIndexSequence[0].DimensionOrganizationUID
    assert len(organization) == 1 and not organization & {original, "1.2.3.4"}
    evidence = result.ReferencedImageEvidenceSequence[0]
    assert evidence.StudyInstanceUID == result.StudyInstanceUID
    assert evidence.ReferencedSeriesSequence[0].SeriesInstanceUID == (
        result.ReferencedSeriesSequence[0].SeriesInstanceUID
    )


def test_deidentification_method_names_the_paths_not_the_values(native_paths: Any) -> None:
    _, result, _, _ = native_paths
    method = list(result.DeidentificationMethod)
    assert "Replace: (0020,9221)[0].(0020,9164)" in method
    assert "Keep: (5200,9230)[*].(2005,140F)[*].(0008,0023)" in method
    assert not any("Hello1" in value or "1.2.3.4" in value for value in method)


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_path_replace_output_has_no_new_iod_error(native_paths: Any, tmp_path: Path) -> None:
    _, _, source_bytes, result_bytes = native_paths
    assert new_iod_errors(source_bytes, result_bytes, tmp_path) == set()


@pytest.mark.parametrize("spelling", ["0010-0020", "0010,0020", "(0010,0020)", "00100020"])
def test_every_tag_spelling_works_in_keep_replace_and_remove(
    orthanc: OrthancServer, upload: Upload, spelling: str
) -> None:
    source = read("CT_small.dcm")
    study = upload([source])
    description = spelling.replace("0010", "0008").replace("0020", "1030")  # StudyDescription, same spelling
    name = spelling.replace("0020", "0010")  # PatientName
    body = {"Keep": [spelling], "Replace": {name: "Doe^Jane"}, "Remove": [description], "Project": "paths-forms"}
    response = orthanc.post(f"/anon-consistent/studies/{study}", body)
    assert response.status_code == 200, response.text
    (result,) = stored_datasets(orthanc, "studies", response.json()["ID"])
    assert result.PatientID == source.PatientID and result.PatientName == "Doe^Jane"
    assert "StudyDescription" not in result


def test_a_bad_path_answers_an_orthanc_style_400_and_stores_nothing(orthanc: OrthancServer, upload: Upload) -> None:
    study = upload([read("CT_small.dcm")])
    count = len(orthanc.json("/instances"))
    response = orthanc.post(f"/anon-consistent/studies/{study}", {"Keep": ["DimensionIndexSequence.PatientName"]})
    assert response.status_code == 400
    error = response.json()
    assert error["HttpStatus"] == 400 and error["Method"] == "POST"
    assert '"Keep": "DimensionIndexSequence.PatientName"' in error["Message"]
    assert "[0] for the first item or [*] for every item" in error["Message"]
    assert len(orthanc.json("/instances")) == count
