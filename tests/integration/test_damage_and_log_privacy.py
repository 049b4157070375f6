"""Damaged stored files are reported, not anonymized; Orthanc's log never shows an original value.

Orthanc refuses a truncated file at upload, so a good file is stored and then
damaged on disk, as a failing disk or an interrupted copy would: storage
compression is off (files are raw DICOM, named by attachment UUID) and the
storage cache is off, so Orthanc serves what is on disk. It does not check the
MD5 it recorded when it serves a file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.dicom_data import ct_study, encode, read, reidentified, with_wrong_vr
from tests.orthanc_server import OrthancServer
from tests.privacy import uid_values, walk_elements

LEGACY_ROOT = "1.2.840.113619.2.55.3.0604688119"  # components with leading zeros, common in legacy data
PATIENT_NAME, PATIENT_ID = "Quixote^Zebulon", "QX0604688"
DATES = {"StudyDate": "19710203", "SeriesDate": "19710203", "ContentDate": "19710204", "PatientBirthDate": "19420817"}


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    server = OrthancServer(
        tmp_path_factory.mktemp("orthanc-damage"),
        StorageCompression=False,
        MaximumStorageCacheSize=0,
        StoreMD5ForAttachments=True,
    )
    with server:
        yield server


def damage(server: OrthancServer, instance_id: str, cut: int) -> None:
    """Cut the last ``cut`` bytes of the stored file, behind Orthanc's back."""
    uuid = server.json(f"/instances/{instance_id}/attachments/dicom/info")["Uuid"]
    path = server.workdir / "storage" / uuid[:2] / uuid[2:4] / uuid
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    assert len(server.instance_bytes(instance_id)) == len(data) - cut  # Orthanc serves the damaged file


def instance_count(server: OrthancServer) -> int:
    return int(server.json("/statistics")["CountInstances"])


def test_truncated_pixel_data_is_reported_per_instance_and_nothing_is_stored_for_it(orthanc: OrthancServer) -> None:
    originals = reidentified(ct_study())
    answers = orthanc.upload_all([encode(d) for d in originals])
    study = answers[0]["ParentStudy"]
    cut_2, cut_60 = answers[0]["ID"], answers[1]["ID"]
    pixel_bytes = [len(d.PixelData) for d in originals[:2]]
    damage(orthanc, cut_2, 2)
    damage(orthanc, cut_60, 60)
    before = instance_count(orthanc)

    response = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "damage"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["InstancesCount"] == 5 and answer["FailedInstancesCount"] == 2
    assert {f["ID"]: f["Error"] for f in answer["FailedInstances"]} == {
        cut_2: f"PixelData (7FE0,0010) declares {pixel_bytes[0]} bytes, {pixel_bytes[0] - 2} present",
        cut_60: f"PixelData (7FE0,0010) declares {pixel_bytes[1]} bytes, {pixel_bytes[1] - 60} present",
    }
    assert instance_count(orthanc) == before + 5  # nothing for the damaged ones
    assert len(orthanc.json(f"/studies/{answer['ID']}/instances")) == 5
    assert f"instance {cut_60} failed: PixelData (7FE0,0010) declares" in orthanc.log_tail(400)


def test_a_study_of_one_cut_encapsulated_instance_fails_with_the_reason(orthanc: OrthancServer) -> None:
    answer = orthanc.upload(encode(reidentified([read("JPEG2000.dcm")])[0]))
    damage(orthanc, answer["ID"], 60)
    studies = orthanc.json("/studies")

    response = orthanc.post(f"/anon-consistent/studies/{answer['ParentStudy']}", {"Project": "damage"})
    assert response.status_code == 500, response.text
    details = response.json()["Details"]
    assert details["InstancesCount"] == 0
    assert details["FailedInstances"] == [
        {"ID": answer["ID"], "Error": "PixelData (7FE0,0010) fragment 1 declares 250 bytes, 198 present"}
    ]
    assert orthanc.json("/studies") == studies


def test_the_file_answer_of_a_damaged_instance_is_a_500_with_the_reason(orthanc: OrthancServer) -> None:
    answer = orthanc.upload(encode(reidentified(ct_study()[:1])[0]))
    damage(orthanc, answer["ID"], 200)
    response = orthanc.post(f"/anon-consistent/instances/{answer['ID']}/anonymize", {})
    assert response.status_code == 500
    (failed,) = response.json()["Details"]["FailedInstances"]
    assert failed["ID"] == answer["ID"] and "PixelData" in failed["Error"]


def test_a_file_cut_right_before_its_pixel_data_fails_instead_of_losing_its_image(orthanc: OrthancServer) -> None:
    answer = orthanc.upload(encode(reidentified(ct_study()[:1])[0]))
    stored = orthanc.instance_bytes(answer["ID"])
    damage(orthanc, answer["ID"], len(stored) - stored.rfind(b"\xe0\x7f\x10\x00"))  # the header of PixelData
    instances = orthanc.json("/instances")

    response = orthanc.post(f"/anon-consistent/instances/{answer['ID']}", {"Project": "damage"})
    assert response.status_code == 500, response.text
    assert response.json()["Details"]["FailedInstances"] == [
        {"ID": answer["ID"], "Error": "PixelData (7FE0,0010) is missing: the file may be truncated"}
    ]
    assert orthanc.json("/instances") == instances


def legacy_study() -> list[Dataset]:
    """A CT study whose UIDs have leading-zero components, with a distinctive patient.

    Its StudyInstanceUID doubles as FrameOfReferenceUID (as some scanners do),
    and an eighth instance references an image with a UID written as FD.
    """
    datasets = ct_study()
    legacy: dict[str, str] = {}
    for dataset in datasets:
        for _, element in walk_elements(dataset):
            if element.VR == "UI" and str(element.value) in uid_values(dataset):  # type: ignore[attr-defined]
                value = str(element.value)  # type: ignore[attr-defined]
                element.value = legacy.setdefault(value, f"{LEGACY_ROOT}.{len(legacy) + 1:02d}")  # type: ignore[attr-defined]
        dataset.FrameOfReferenceUID = dataset.StudyInstanceUID
        dataset.PatientName, dataset.PatientID = PATIENT_NAME, PATIENT_ID
        for keyword, value in DATES.items():
            setattr(dataset, keyword, value)
    referencing = copy.deepcopy(datasets[0])
    referencing.SOPInstanceUID = f"{LEGACY_ROOT}.{len(legacy) + 1:02d}"
    item = Dataset()
    item.ReferencedSOPClassUID = datasets[1].SOPClassUID
    item.ReferencedSOPInstanceUID = datasets[1].SOPInstanceUID
    item.is_undefined_length_sequence_item = True
    referencing.ReferencedImageSequence = Sequence([item])
    referencing["ReferencedImageSequence"].is_undefined_length = True
    return [*datasets, referencing]


def originals_in(text: str, datasets: list[Dataset]) -> set[str]:
    needles = set().union(*(uid_values(d) for d in datasets)) | {PATIENT_ID, *PATIENT_NAME.split("^")}
    needles |= {str(e.value) for d in datasets for _, e in walk_elements(d) if e.VR == "DA" and e.value}  # type: ignore[attr-defined]
    return {n for n in needles if re.search(rf"(?<![0-9.]){re.escape(n)}(?![0-9])", text)}


def test_no_original_uid_name_id_or_date_reaches_the_log(orthanc: OrthancServer) -> None:
    datasets = legacy_study()
    blobs = [encode(d) for d in datasets]
    blobs[-1] = with_wrong_vr(blobs[-1], datasets[-1].ReferencedImageSequence[0], "ReferencedSOPInstanceUID")
    answers = orthanc.upload_all(blobs)
    study = answers[0]["ParentStudy"]
    assert {a["ParentStudy"] for a in answers} == {study}
    damage(orthanc, answers[2]["ID"], 60)

    response = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "legacy"})
    assert response.status_code == 200, response.text
    # Keeping the StudyInstanceUID while replacing the FrameOfReferenceUID that
    # has the same value: every instance fails on the conflict.
    conflict = {"Keep": ["StudyInstanceUID"], "Replace": {"FrameOfReferenceUID": "1.2.3.4"}, "Force": True}
    failed = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "legacy-conflict", **conflict})
    assert failed.status_code == 500, failed.text

    log = Path(orthanc.log_path).read_text(errors="replace")
    assert originals_in(log, datasets) == set()
    assert originals_in(response.text + failed.text, datasets) == set()  # nor in the answers
    # The failures did happen, and were logged.
    reasons = {f["ID"]: f["Error"] for f in response.json()["FailedInstances"]}
    assert reasons[answers[2]["ID"]].startswith("PixelData (7FE0,0010) declares")
    assert reasons[answers[-1]["ID"]] == (
        "ReferencedImageSequence (0008,1140) > item 1 > ReferencedSOPInstanceUID (0008,1155) "
        "is encoded with VR FD where UI is expected: its value cannot be processed (TypeError)"
    )
    failures = failed.json()["Details"]["FailedInstances"]
    assert any(f["Error"].endswith("would give one original UID two different new values") for f in failures)
    assert "two different new values" in log and "is encoded with VR FD" in log
