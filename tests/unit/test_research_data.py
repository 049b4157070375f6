"""The RTSTRUCT and described-study builders, and the one place that exports every builder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import research_data
from tests.dciodvfy import DCIODVFY, iod_errors
from tests.dicom_data import ct_study, encode, read
from tests.research_data import (
    CLINICAL_WORDS,
    DESCRIPTOR_KEYWORDS,
    described_study,
    rtstruct_with_roi_names,
)

ROI_NAMES = ["PTV", "CTV_60", "Parotid_L", "DOE JOHN 12345 GTV"]


def test_every_builder_is_exported() -> None:
    for name in ("pet_series", "suv_bw_factor", "vendor_mr_instance", "rtstruct_with_roi_names", "described_study"):
        assert callable(getattr(research_data, name))


def test_rtstruct_has_one_roi_per_name_in_all_three_sequences() -> None:
    structure_set = rtstruct_with_roi_names(ROI_NAMES)
    rois = structure_set.StructureSetROISequence
    assert [roi.ROIName for roi in rois] == ROI_NAMES
    assert [roi.ROIDescription for roi in rois] == ROI_NAMES
    assert [roi.ROINumber for roi in rois] == [1, 2, 3, 4]
    assert [c.ReferencedROINumber for c in structure_set.ROIContourSequence] == [1, 2, 3, 4]
    assert all(c.ContourSequence[0].ContourGeometricType == "CLOSED_PLANAR" for c in structure_set.ROIContourSequence)
    observations = structure_set.RTROIObservationsSequence
    assert [o.ReferencedROINumber for o in observations] == [1, 2, 3, 4]
    assert [o.RTROIInterpretedType for o in observations] == ["PTV", "CTV", "ORGAN", "GTV"]
    # SH holds 16 characters: the long name has no label rather than a cut one
    assert [o.get("ROIObservationLabel") for o in observations] == ["PTV", "CTV_60", "Parotid_L", None]
    assert (str(structure_set.PatientName), structure_set.PatientID) == ("DOE^JOHN", "12345")


def test_rtstruct_references_the_images_it_is_drawn_on() -> None:
    study = described_study("ROE^JANE", "P-77")
    series = [ds for ds in study if ds.SeriesInstanceUID == study[-1].SeriesInstanceUID]
    structure_set = rtstruct_with_roi_names(["PTV"], "ROE^JANE", "P-77", images=series)
    assert structure_set.StudyInstanceUID == series[0].StudyInstanceUID
    assert structure_set.SeriesInstanceUID not in {ds.SeriesInstanceUID for ds in study}
    assert structure_set.FrameOfReferenceUID == series[0].FrameOfReferenceUID
    frame = structure_set.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == series[0].FrameOfReferenceUID
    assert structure_set.StructureSetROISequence[0].ReferencedFrameOfReferenceUID == series[0].FrameOfReferenceUID
    referenced_series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert referenced_series.SeriesInstanceUID == series[0].SeriesInstanceUID
    referenced = [item.ReferencedSOPInstanceUID for item in referenced_series.ContourImageSequence]
    assert referenced == [ds.SOPInstanceUID for ds in series]
    with pytest.raises(ValueError, match="one series"):
        rtstruct_with_roi_names(["PTV"], images=study)
    with pytest.raises(ValueError, match="at least one ROI"):
        rtstruct_with_roi_names([])


def _forms(text: str) -> set[str]:
    return {word.upper() for word in re.split(r"[^A-Za-z0-9]+", text) if word}


def test_described_study_carries_the_identifiers_in_many_shapes() -> None:
    study = described_study("DOE^JOHN", "12345")
    assert len(study) == len(ct_study()) and len({ds.SeriesInstanceUID for ds in study}) == 2
    texts = [str(ds.get(keyword, "")) for ds in study for keyword in DESCRIPTOR_KEYWORDS]
    for text in ("CT CHEST doe_john 12345", "Scout DOE JOHN 12345", "CHEST_doe-john_12345", "JOHN^DOE CHEST"):
        assert text in texts
    for text in ("John.Doe-12345 SmartScore - Gated 0.5 sec", "pt DOE,JOHN id:12345 contrast ok", "JOHN^DOE/12345"):
        assert text in texts
    # every descriptor of every instance names the patient, except one clean comment
    clean = [t for t in texts if not {"DOE", "JOHN"} & _forms(t)]
    assert clean == ["motion artefact"]
    words = {word.upper() for text in texts for word in _forms(text)}
    assert {word.upper() for word in CLINICAL_WORDS} <= words
    assert all((str(ds.PatientName), ds.PatientID) == ("DOE^JOHN", "12345") for ds in study)


def test_described_study_has_new_uids_on_every_call() -> None:
    first, second = described_study(), described_study()
    assert {ds.SOPInstanceUID for ds in first}.isdisjoint(ds.SOPInstanceUID for ds in second)
    assert {ds.SOPInstanceUID for ds in first}.isdisjoint(ds.SOPInstanceUID for ds in ct_study())


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_dciodvfy_finds_no_error_the_sources_do_not_have(tmp_path: Path) -> None:
    def errors(dataset: object, name: str) -> set[str]:
        (tmp_path / name).write_bytes(encode(dataset))  # type: ignore[arg-type]
        return iod_errors(tmp_path / name)

    assert errors(rtstruct_with_roi_names(ROI_NAMES), "rs.dcm") <= errors(read("rtstruct.dcm"), "rs0.dcm")
    for built, source in zip(described_study(), ct_study(), strict=True):
        assert errors(built, "ct.dcm") <= errors(source, "ct0.dcm")
