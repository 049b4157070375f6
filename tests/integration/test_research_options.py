"""What research keeps with the PS3.15 options, in a real Orthanc, on real-shaped data (issue 9, item 7)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import encoded
from tests.orthanc_server import OrthancServer
from tests.research_data import (
    CLINICAL_WORDS,
    DESCRIPTOR_KEYWORDS,
    PET_EXPECTED_SUV_BW_FACTOR,
    described_study,
    pet_series,
    rtstruct_with_roi_names,
    suv_bw_factor,
    vendor_mr_instance,
)

NAME, PATIENT_ID = "QUIXOTE^ALONSO", "77341"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("research")) as orthanc:
        yield orthanc


def anonymize(server: OrthancServer, datasets: list[Dataset], body: dict[str, Any]) -> list[Dataset]:
    blobs = encoded(datasets)
    study = server.upload_all(blobs)[0]["ParentStudy"]
    answer = server.post(f"/anon-consistent/studies/{study}", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["FailedInstancesCount"] == 0, answer.json()
    instances = server.json(f"/studies/{answer.json()['ID']}/instances")
    return [pydicom.dcmread(BytesIO(server.instance_bytes(i["ID"]))) for i in instances]


def assert_nothing_of(patient: tuple[str, str], outputs: list[Dataset]) -> None:
    raw = b"".join(_bytes(ds) for ds in outputs).upper()
    for value in patient[0].split("^"):
        assert value.encode() not in raw, value
    # Whole numbers only: a random new UID may contain the ID's digits by chance.
    assert not re.search(rb"(?<![0-9])" + patient[1].encode() + rb"(?![0-9])", raw), patient[1]


def _bytes(dataset: Dataset) -> bytes:
    buffer = BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def test_pet_suv_survives_with_patient_characteristics_and_modified_dates(server: OrthancServer) -> None:
    originals = pet_series(4, NAME, PATIENT_ID)
    assert suv_bw_factor(originals[0]) == pytest.approx(PET_EXPECTED_SUV_BW_FACTOR)
    body = {"Project": "pet", "Options": ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates"]}
    outputs = anonymize(server, originals, body)
    assert len(outputs) == 4
    for output in outputs:
        assert suv_bw_factor(output) == pytest.approx(PET_EXPECTED_SUV_BW_FACTOR, rel=1e-12)
        assert output.SeriesDate != originals[0].SeriesDate  # shifted, not kept
        codes = {item.CodeValue for item in output.DeidentificationMethodCodeSequence}
        assert {"113100", "113107", "113108"} <= codes
    assert_nothing_of((NAME, PATIENT_ID), outputs)


def test_pet_suv_cannot_be_computed_under_the_basic_profile(server: OrthancServer) -> None:
    outputs = anonymize(server, pet_series(2, NAME, PATIENT_ID), {"Project": "pet-basic"})
    for output in outputs:
        assert "PatientWeight" not in output
        with pytest.raises((ValueError, AttributeError, KeyError)):
            suv_bw_factor(output)


def test_diffusion_and_scaling_private_values_survive_retain_safe_private(server: OrthancServer) -> None:
    vendor = vendor_mr_instance(NAME, PATIENT_ID)
    original = vendor.dataset
    (output,) = anonymize(server, [original], {"Project": "dwi", "Options": ["RetainSafePrivate"]})
    for element in vendor.elements:
        if element.safe:
            assert element.tag in output, element.note
            assert output[element.tag].value == original[element.tag].value, element.note
            assert output[element.creator_tag].value == original[element.creator_tag].value
        else:
            assert element.tag not in output, element.note
    assert_nothing_of((NAME, PATIENT_ID), [output])


def test_roi_names_survive_clean_descriptors_and_lose_identifiers(server: OrthancServer) -> None:
    names = ["PTV", "CTV_60", "Parotid_L", "QUIXOTE ALONSO 77341 GTV"]
    datasets = [rtstruct_with_roi_names(names, NAME, PATIENT_ID)]
    outputs = anonymize(server, datasets, {"Project": "rt", "Options": ["CleanDescriptors"]})
    (structure_set,) = [ds for ds in outputs if ds.Modality == "RTSTRUCT"]
    roi_names = [item.ROIName for item in structure_set.StructureSetROISequence]
    assert roi_names == ["PTV", "CTV_60", "Parotid_L", "GTV"]
    assert_nothing_of((NAME, PATIENT_ID), outputs)
    basic = anonymize(server, [rtstruct_with_roi_names(names, NAME, PATIENT_ID)], {"Project": "rt-basic"})
    (basic_set,) = [ds for ds in basic if ds.Modality == "RTSTRUCT"]
    assert {item.ROIName for item in basic_set.StructureSetROISequence} == {""}  # Z without the option


def test_descriptions_carrying_the_name_and_id_are_cleaned(server: OrthancServer) -> None:
    outputs = anonymize(server, described_study(NAME, PATIENT_ID), {"Project": "desc", "Options": ["CleanDescriptors"]})
    kept_words = set()
    for output in outputs:
        for keyword in DESCRIPTOR_KEYWORDS:
            kept_words.update(str(output.get(keyword, "")).split())
    assert kept_words & set(CLINICAL_WORDS)  # the clinical part survives
    assert_nothing_of((NAME, PATIENT_ID), outputs)
