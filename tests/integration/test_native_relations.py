"""What Orthanc's own anonymization tests check about relationships, on our route (issue 10, item 8).

Re-created in this project's words from the behaviours orthanc-tests
(tag Orthanc-1.10.1) asserts for native /anonymize: relationships across
levels and references between objects. Where we deliberately differ (README
"Differences from native /anonymize"), the test asserts our behaviour and
names the difference. Tag syntax, private tags, Force and KeepSource are in
test_native_options.py; provenance in test_native_provenance.py.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.dicom_data import ct_study, read, rt_study
from tests.integration.native_helpers import CR_IMAGE_STORAGE, GSPS_STORAGE, anonymize, by_modality, datasets_of, upload
from tests.orthanc_server import OrthancServer


def test_a_series_gives_one_new_series_holding_every_instance(orthanc: OrthancServer) -> None:
    study = ct_study()
    originals = [d for d in study if d.SeriesInstanceUID == study[-1].SeriesInstanceUID]
    for dataset in originals:
        dataset.StationName = "CT-ROOM-3"
    answers = upload(orthanc, originals)
    source_series = answers[0]["ParentSeries"]

    answer = anonymize(orthanc, "series", source_series, {"Project": "series"})

    assert answer["Type"] == "Series" and answer["InstancesCount"] == len(originals) == 5
    new_instances = orthanc.json(f"/series/{answer['ID']}")["Instances"]
    assert len(new_instances) == 5
    assert {orthanc.json(f"/instances/{i}")["ParentSeries"] for i in new_instances} == {answer["ID"]}
    assert len(orthanc.json(f"/series/{source_series}")["Instances"]) == 5  # the source stays
    assert orthanc.get(f"/instances/{answers[0]['ID']}/content/0008-1010").status_code == 200
    assert all(orthanc.get(f"/instances/{i}/content/0008-1010").status_code == 404 for i in new_instances)


def test_a_study_keeps_its_series_and_replace_reaches_every_instance(orthanc: OrthancServer) -> None:
    answers = upload(orthanc, ct_study())
    source_study = answers[0]["ParentStudy"]
    source_sizes = sorted(
        len(orthanc.json(f"/series/{s}")["Instances"]) for s in orthanc.json(f"/studies/{source_study}")["Series"]
    )

    answer = anonymize(orthanc, "studies", source_study, {"Project": "study", "Replace": {"PatientName": "Jodogne"}})

    new_series = orthanc.json(f"/studies/{answer['ID']}")["Series"]
    assert len(new_series) == 2
    assert {orthanc.json(f"/series/{s}")["ParentStudy"] for s in new_series} == {answer["ID"]}
    assert sorted(len(orthanc.json(f"/series/{s}")["Instances"]) for s in new_series) == source_sizes == [2, 5]
    results = datasets_of(orthanc, "studies", answer["ID"])
    assert {str(d.PatientName) for d in results} == {"Jodogne"}
    assert "Jodogne" not in {str(d.PatientName) for d in datasets_of(orthanc, "studies", source_study)}
    # One FrameOfReferenceUID shared by every image, before and after, and not the same one.
    sources = datasets_of(orthanc, "studies", source_study)
    assert len({d.FrameOfReferenceUID for d in sources}) == len({d.FrameOfReferenceUID for d in results}) == 1
    assert results[0].FrameOfReferenceUID != sources[0].FrameOfReferenceUID


def _image_reference(class_uid: str, instance_uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = class_uid
    item.ReferencedSOPInstanceUID = instance_uid
    return item


@pytest.mark.parametrize(("keyword", "count"), [("ReferencedImageSequence", 3), ("SourceImageSequence", 1)])
def test_image_references_stay_equal_across_instances_and_change(
    orthanc: OrthancServer, keyword: str, count: int
) -> None:
    # Two images that refer to the same images outside the study (a localizer, a source image).
    originals = ct_study()[:2]
    referenced = [_image_reference("1.2.840.10008.5.1.4.1.1.4", generate_uid()) for _ in range(count)]
    for dataset in originals:
        setattr(dataset, keyword, Sequence([Dataset(item) for item in referenced]))
    answers = upload(orthanc, originals)
    sources = [pydicom.dcmread(BytesIO(orthanc.instance_bytes(a["ID"]))) for a in answers]

    answer = anonymize(orthanc, "studies", answers[0]["ParentStudy"], {"Project": "references"})

    first, second = datasets_of(orthanc, "studies", answer["ID"])
    for position in range(count):
        new = first[keyword][position].ReferencedSOPInstanceUID
        assert second[keyword][position].ReferencedSOPInstanceUID == new
        assert new != sources[0][keyword][position].ReferencedSOPInstanceUID
        assert first[keyword][position].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
    assert len(first[keyword].value) == len(second[keyword].value) == count


def test_sr_evidence_points_at_the_anonymized_mr(orthanc: OrthancServer) -> None:
    mr, sr = read("MR_small.dcm"), read("test-SR.dcm")
    sr.PatientID, sr.PatientName, sr.StudyInstanceUID = mr.PatientID, mr.PatientName, mr.StudyInstanceUID
    sop = _image_reference(mr.SOPClassUID, mr.SOPInstanceUID)
    series, study = Dataset(), Dataset()
    series.SeriesInstanceUID, series.ReferencedSOPSequence = mr.SeriesInstanceUID, Sequence([sop])
    study.StudyInstanceUID, study.ReferencedSeriesSequence = mr.StudyInstanceUID, Sequence([series])
    sr.CurrentRequestedProcedureEvidenceSequence = Sequence([study])
    content = [(i.RelationshipType, i.ValueType) for i in sr.ContentSequence]
    answers = upload(orthanc, [mr, sr])

    answer = anonymize(orthanc, "studies", answers[0]["ParentStudy"], {"Project": "sr", "Keep": ["ContentSequence"]})

    results = by_modality(datasets_of(orthanc, "studies", answer["ID"]))
    new_mr, new_sr = results["MR"], results["SR"]
    evidence = new_sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == new_mr.StudyInstanceUID != mr.StudyInstanceUID
    assert evidence.ReferencedSeriesSequence[0].SeriesInstanceUID == new_mr.SeriesInstanceUID
    reference = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert reference.ReferencedSOPInstanceUID == new_mr.SOPInstanceUID
    assert reference.ReferencedSOPClassUID == mr.SOPClassUID
    # Difference (plain Keep of a sequence): native keeps ContentSequence word
    # for word; here the tree stays, its items still anonymized.
    assert [(i.RelationshipType, i.ValueType) for i in new_sr.ContentSequence] == content


def test_a_presentation_state_points_at_the_anonymized_image(orthanc: OrthancServer) -> None:
    cr = read("CT_small.dcm")
    cr.SOPClassUID, cr.Modality = CR_IMAGE_STORAGE, "CR"
    pr = Dataset()
    for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate"):
        setattr(pr, keyword, cr[keyword].value)
    pr.SOPClassUID, pr.SOPInstanceUID = GSPS_STORAGE, generate_uid()
    pr.SeriesInstanceUID, pr.Modality = generate_uid(), "PR"
    series = Dataset()
    series.SeriesInstanceUID = cr.SeriesInstanceUID
    series.ReferencedImageSequence = Sequence([_image_reference(CR_IMAGE_STORAGE, cr.SOPInstanceUID)])
    pr.ReferencedSeriesSequence = Sequence([series])
    answers = upload(orthanc, [cr, pr])

    answer = anonymize(orthanc, "studies", answers[0]["ParentStudy"], {"Project": "pr"})

    new_series = orthanc.json(f"/studies/{answer['ID']}/series")
    assert sorted(s["MainDicomTags"]["Modality"] for s in new_series) == ["CR", "PR"]
    assert [len(s["Instances"]) for s in new_series] == [1, 1]
    results = by_modality(datasets_of(orthanc, "studies", answer["ID"]))
    referenced = results["PR"].ReferencedSeriesSequence[0]
    assert referenced.SeriesInstanceUID == results["CR"].SeriesInstanceUID
    assert referenced.ReferencedImageSequence[0].ReferencedSOPInstanceUID == results["CR"].SOPInstanceUID
    assert referenced.ReferencedImageSequence[0].ReferencedSOPClassUID == CR_IMAGE_STORAGE


def _rt_references(rtstruct: Dataset) -> dict[str, str]:
    frame = rtstruct.ReferencedFrameOfReferenceSequence[0]
    study = frame.RTReferencedStudySequence[0]
    series = study.RTReferencedSeriesSequence[0]
    contours = rtstruct.ROIContourSequence[0].ContourSequence
    return {
        "frame": frame.FrameOfReferenceUID,
        "study": study.ReferencedSOPInstanceUID,  # a study UID, in a SOP Instance attribute
        "series": series.SeriesInstanceUID,
        "image": series.ContourImageSequence[0].ReferencedSOPInstanceUID,
        "last contour image": contours[-1].ContourImageSequence[0].ReferencedSOPInstanceUID,
    }


@pytest.mark.parametrize("forced_study", [None, "1.2.826.0.1.3680043.8.498.10.20.30"])
def test_an_rtstruct_points_at_the_anonymized_ct(orthanc: OrthancServer, forced_study: str | None) -> None:
    originals = rt_study()[:-2]  # the CT series and the RTSTRUCT on it
    *cts, rtstruct = originals
    for contour, ct in zip(rtstruct.ROIContourSequence[0].ContourSequence, cts, strict=False):
        contour.ContourImageSequence = Sequence([_image_reference(ct.SOPClassUID, ct.SOPInstanceUID)])
    answers = upload(orthanc, originals)
    sources = by_modality(datasets_of(orthanc, "studies", answers[0]["ParentStudy"]))
    body: dict[str, Any] = {"Project": f"rt-{forced_study}"}
    if forced_study:
        body |= {"Replace": {"StudyInstanceUID": forced_study}, "Force": True}

    answer = anonymize(orthanc, "studies", answers[0]["ParentStudy"], body)

    results = datasets_of(orthanc, "studies", answer["ID"])
    assert len(results) == len(originals)
    rtstruct = by_modality(results)["RTSTRUCT"]
    cts = [d for d in results if d.Modality == "CT"]
    references = _rt_references(rtstruct)
    assert references["frame"] == cts[0].FrameOfReferenceUID != sources["CT"].FrameOfReferenceUID
    assert references["study"] == cts[0].StudyInstanceUID == rtstruct.StudyInstanceUID
    assert references["series"] == cts[0].SeriesInstanceUID != sources["CT"].SeriesInstanceUID
    assert {references["image"], references["last contour image"]} <= {d.SOPInstanceUID for d in cts}
    assert set(references.values()).isdisjoint(_rt_references(sources["RTSTRUCT"]).values())
    source_contours = sources["RTSTRUCT"].ROIContourSequence[0].ContourSequence
    assert len(rtstruct.ROIContourSequence[0].ContourSequence) == len(source_contours) == 3
    if forced_study:
        assert {d.StudyInstanceUID for d in results} == {forced_study}
    else:
        assert cts[0].StudyInstanceUID != sources["CT"].StudyInstanceUID
