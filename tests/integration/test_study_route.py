"""POST /anon-consistent/studies/{id} against a real Orthanc."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from tests.dicom_data import ct_study, mr_patient, rt_study
from tests.integration.conftest import fingerprint, stored_bytes, stored_datasets
from tests.orthanc_server import OrthancServer
from tests.privacy import leaked

Upload = Callable[[list[Dataset]], str]


def test_ct_study_is_anonymized_with_one_study_two_series_one_frame_of_reference(
    orthanc: OrthancServer, upload: Upload
) -> None:
    originals = ct_study()
    study = upload(originals)  # re-identified in place: these are the values that must not survive
    before = fingerprint(orthanc, study)
    response = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "route-ct"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) >= {"ID", "Path", "Type", "PatientID", "InstancesCount", "FailedInstancesCount"}
    assert answer["Type"] == "Study" and answer["IsAnonymization"] is True
    assert answer["Path"] == f"/studies/{answer['ID']}" and answer["ID"] != study
    assert answer["InstancesCount"] == 7 and answer["FailedInstancesCount"] == 0
    assert orthanc.json(f"/studies/{answer['ID']}")["ParentPatient"] == answer["PatientID"]

    outputs = stored_datasets(orthanc, "studies", answer["ID"])
    assert len(outputs) == 7
    assert len({d.SeriesInstanceUID for d in outputs}) == 2
    assert len({d.FrameOfReferenceUID for d in outputs}) == 1
    assert {d.PatientIdentityRemoved for d in outputs} == {"YES"}
    assert leaked(stored_bytes(orthanc, "studies", answer["ID"]), originals) == {}
    assert fingerprint(orthanc, study) == before  # the original is never changed


def test_mr_studies_of_one_patient_keep_frame_of_reference_groups(orthanc: OrthancServer, upload: Upload) -> None:
    originals = mr_patient()
    studies = sorted({d.StudyInstanceUID for d in originals})
    answers = []
    for study_uid in studies:
        study = upload([d for d in originals if d.StudyInstanceUID == study_uid])
        response = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "route-mr"})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert len({a["ID"] for a in answers}) == 3
    assert len({a["PatientID"] for a in answers}) == 1  # one pseudonymous patient
    outputs = [d for a in answers for d in stored_datasets(orthanc, "studies", a["ID"])]
    assert len(outputs) == len(originals)
    # Each original study had its own FoR shared by its series: the same holds after.
    for answer in answers:
        per_study = stored_datasets(orthanc, "studies", answer["ID"])
        assert len({d.FrameOfReferenceUID for d in per_study}) == 1
    assert len({d.FrameOfReferenceUID for d in outputs}) == 3
    everything = [b for a in answers for b in stored_bytes(orthanc, "studies", a["ID"])]
    assert leaked(everything, originals) == {}


def test_ct_with_rtstruct_rtplan_rtdose_keeps_every_reference(orthanc: OrthancServer, upload: Upload) -> None:
    originals = rt_study()
    study = upload(originals)
    answer = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "route-rt"}).json()
    outputs = {d.Modality: d for d in stored_datasets(orthanc, "studies", answer["ID"])}
    cts = [d for d in stored_datasets(orthanc, "studies", answer["ID"]) if d.Modality == "CT"]
    rtstruct, rtplan, rtdose = outputs["RTSTRUCT"], outputs["RTPLAN"], outputs["RTDOSE"]
    frame = rtstruct.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == cts[0].FrameOfReferenceUID == rtdose.FrameOfReferenceUID
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == cts[0].SeriesInstanceUID
    assert {i.ReferencedSOPInstanceUID for i in series.ContourImageSequence} == {c.SOPInstanceUID for c in cts}
    assert rtplan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == rtstruct.SOPInstanceUID
    assert rtdose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == rtplan.SOPInstanceUID
    assert leaked(stored_bytes(orthanc, "studies", answer["ID"]), originals) == {}


def test_replace_frame_of_reference_reaches_nested_copies(orthanc: OrthancServer, upload: Upload) -> None:
    study = upload(rt_study())
    body = {"Project": "route-replace", "Replace": {"FrameOfReferenceUID": "1.2.826.0.1.3680043.10.1.1"}}
    answer = orthanc.post(f"/anon-consistent/studies/{study}", body).json()
    outputs = stored_datasets(orthanc, "studies", answer["ID"])
    rtstruct = next(d for d in outputs if d.Modality == "RTSTRUCT")
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == "1.2.826.0.1.3680043.10.1.1"
    assert {d.FrameOfReferenceUID for d in outputs if "FrameOfReferenceUID" in d} == {"1.2.826.0.1.3680043.10.1.1"}


def test_bad_requests_answer_4xx_json_and_change_nothing(orthanc: OrthancServer, upload: Upload) -> None:
    study = upload(ct_study())
    studies_before = sorted(orthanc.json("/studies"))
    cases = [
        ("/anon-consistent/studies/does-not-exist", b"", 404, "Unknown study"),
        (f"/anon-consistent/studies/{study}", b"{not json", 400, "not valid JSON"),
        (f"/anon-consistent/studies/{study}", b'{"KeepSource": "yes"}', 400, "KeepSource"),
        (f"/anon-consistent/studies/{study}", b'{"Replace": {"FrameOfReferenceUID": "1.2.abc"}}', 400, "valid UID"),
        (f"/anon-consistent/studies/{study}", b'{"Keep": ["NotATag"]}', 400, "Unknown DICOM tag"),
    ]
    for path, body, status, message in cases:
        response = orthanc.post(path, body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        error = response.json()
        assert error["HttpStatus"] == status and message in error["Message"]
    assert orthanc.get(f"/anon-consistent/studies/{study}").status_code == 405
    assert sorted(orthanc.json("/studies")) == studies_before


def test_keep_source_false_deletes_the_original(orthanc: OrthancServer, upload: Upload) -> None:
    study = upload(ct_study())
    answer = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "route-move", "KeepSource": False}).json()
    assert answer["InstancesCount"] == 7
    assert orthanc.get(f"/studies/{study}").status_code == 404
    assert len(orthanc.json(f"/studies/{answer['ID']}/instances")) == 7


def test_failed_instances_are_reported_logged_and_the_source_untouched(orthanc: OrthancServer, upload: Upload) -> None:
    study = upload(ct_study())
    before = fingerprint(orthanc, study)
    # Keeping every identifier would make each output the very same Orthanc
    # resource as its source: the plugin must refuse per instance, not overwrite.
    keep_all = ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID"]
    response = orthanc.post(f"/anon-consistent/studies/{study}", {"Keep": keep_all, "Force": True, "Project": "f"})
    assert response.status_code == 500, response.text
    error = response.json()
    assert "none of the 7 instance(s) could be anonymized" in error["Message"]
    assert error["Details"]["FailedInstancesCount"] == 7 and error["Details"]["InstancesCount"] == 0
    reasons = {failure["Error"] for failure in error["Details"]["FailedInstances"]}
    assert reasons == {"the anonymized instance would overwrite its source: every identifier was kept"}
    assert "would overwrite its source" in orthanc.log_tail(400)
    assert fingerprint(orthanc, study) == before
