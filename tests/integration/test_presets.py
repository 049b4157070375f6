"""Presets configured in orthanc.json, named by requests, in a real Orthanc."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset

from tests.dicom_data import encoded, read, reidentified
from tests.integration.conftest import stored_datasets
from tests.orthanc_server import REPO, OrthancServer

PRESETS: dict[str, Any] = {
    "weights": {
        "Description": "Keeps weight and age, shifts dates",
        "Keep": ["PatientWeight", "PatientAge"],
        "ShiftDates": True,
    },
    "renamed": {"Replace": {"PatientName": "PRESET^NAME"}, "Project": "renamed"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("orthanc"), plugin_config={"Presets": PRESETS}) as orthanc:
        yield orthanc


def ct_instance() -> Dataset:
    dataset = read("CT_small.dcm")
    dataset.PatientWeight = "81.5"
    dataset.PatientAge = "043Y"
    dataset.StudyDescription = "Thorax"
    return reidentified([dataset])[0]


@pytest.fixture(scope="module")
def source(server: OrthancServer) -> tuple[str, Dataset]:
    original = ct_instance()
    answer = server.upload_all(encoded([original]))[0]
    return answer["ParentStudy"], original


def anonymized(server: OrthancServer, study: str, body: dict[str, Any]) -> Dataset:
    response = server.post(f"/anon-consistent/studies/{study}", body)
    assert response.status_code == 200, response.text
    [output] = stored_datasets(server, "studies", response.json()["ID"])
    return output


def test_the_presets_are_listed_as_configured(server: OrthancServer) -> None:
    assert server.json("/anon-consistent")["Presets"] == PRESETS


def test_a_request_gets_its_presets_options_plus_its_own(server: OrthancServer, source: tuple[str, Dataset]) -> None:
    study, original = source
    output = anonymized(server, study, {"Preset": "weights", "Keep": ["StudyDescription"], "Project": "p-weights"})
    assert output.PatientWeight == original.PatientWeight == 81.5  # the preset's Keep
    assert output.PatientAge == "043Y"
    assert output.StudyDescription == "Thorax"  # the body's Keep, added
    assert output.StudyDate and output.StudyDate != original.StudyDate  # the preset's ShiftDates
    assert output.LongitudinalTemporalInformationModified == "MODIFIED"

    plain = anonymized(server, study, {"Project": "p-weights"})
    assert "PatientWeight" not in plain and "StudyDescription" not in plain


def test_the_body_wins_over_the_preset(server: OrthancServer, source: tuple[str, Dataset]) -> None:
    study, _ = source
    output = anonymized(server, study, {"Preset": "renamed", "Replace": {"PatientName": "BODY^NAME"}})
    assert str(output.PatientName) == "BODY^NAME"
    preset_only = anonymized(server, study, {"Preset": "renamed", "Project": "other"})
    assert str(preset_only.PatientName) == "PRESET^NAME"


def test_an_unknown_preset_is_refused_and_changes_nothing(server: OrthancServer, source: tuple[str, Dataset]) -> None:
    study, _ = source
    before = server.json("/studies")
    response = server.post(f"/anon-consistent/studies/{study}", {"Preset": "pet"})
    assert response.status_code == 400
    assert response.json()["Message"] == 'Unknown preset "pet": the known presets are "renamed", "weights"'
    assert server.json("/studies") == before


def test_a_job_records_the_body_sent_and_the_body_applied(server: OrthancServer, source: tuple[str, Dataset]) -> None:
    study, _ = source
    body = {"Preset": "weights", "Keep": ["StudyDescription"], "Asynchronous": True, "Project": "p-job"}
    job = server.post(f"/anon-consistent/studies/{study}", body).json()
    deadline = time.monotonic() + 60
    while (status := server.json(job["Path"]))["State"] in ("Pending", "Running") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status["State"] == "Success", status
    assert status["Description"]["Preset"] == "weights"
    assert status["Request"]["Body"] == body
    assert status["Request"]["ResolvedBody"] == {
        "Keep": ["PatientWeight", "PatientAge", "StudyDescription"],
        "ShiftDates": True,
        "Asynchronous": True,
        "Project": "p-job",
    }
    [output] = stored_datasets(server, "studies", status["Content"]["ID"])
    assert output.PatientWeight == 81.5


def test_an_invalid_preset_stops_the_plugin_naming_it(tmp_path: Path) -> None:
    server = OrthancServer(tmp_path, plugin_config={"Presets": {"pet-suv": {"Keep": ["PatientWieght"]}}})
    with pytest.raises(RuntimeError):
        server.start(timeout=15)
    assert '"AnonConsistent.Presets": preset "pet-suv": "Keep": Unknown DICOM tag "PatientWieght"' in server.log_tail(
        200
    )


def test_the_shipped_pet_suv_preset(tmp_path: Path) -> None:
    shipped = json.loads((REPO / "docs" / "presets.example.json").read_text())["AnonConsistent"]
    with OrthancServer(tmp_path, plugin_config=shipped) as server:
        original = ct_instance()
        study = server.upload(encoded([original])[0])["ParentStudy"]
        output = anonymized(server, study, {"Preset": "pet-suv"})
    assert output.PatientWeight == 81.5 and output.PatientAge == "043Y"
    assert output.StudyDate and output.StudyDate != original.StudyDate
    assert output.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = {item.CodeValue for item in output.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113107", "113108"}
