"""ROI names cleaning made equal are numbered, so that tools keyed by name keep every ROI."""

from __future__ import annotations

import json

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anon_consistent.options import parse_options
from anon_consistent.roi_names import keep_names_distinct, original_names
from tests.dicom_data import encoded, rt_study
from tests.engine import OfflineEngine


def structure_set(*names: str) -> Dataset:
    ds = Dataset()
    ds.StructureSetROISequence = Sequence([Dataset() for _ in names])
    ds.RTROIObservationsSequence = Sequence([Dataset() for _ in names])
    for roi, observation, name in zip(ds.StructureSetROISequence, ds.RTROIObservationsSequence, names, strict=True):
        roi.ROIName = observation.ROIObservationLabel = name
    return ds


def cleaned(names: list[str], after: list[str]) -> list[str]:
    ds = structure_set(*names)
    before = original_names(ds)
    for roi, observation, name in zip(ds.StructureSetROISequence, ds.RTROIObservationsSequence, after, strict=True):
        roi.ROIName = observation.ROIObservationLabel = name
    keep_names_distinct(ds, before)
    labels = [item.ROIObservationLabel for item in ds.RTROIObservationsSequence]
    assert labels == [item.ROIName for item in ds.StructureSetROISequence]  # both sequences alike
    return labels


def test_a_numbered_name_keeps_to_the_length_of_its_vr() -> None:
    ds = structure_set("A" * 12 + "DOE", "A" * 15)
    before = original_names(ds)
    ds.StructureSetROISequence[0].ROIName = ds.RTROIObservationsSequence[0].ROIObservationLabel = "A" * 15
    keep_names_distinct(ds, before)
    assert ds.StructureSetROISequence[0].ROIName == "A" * 15 + "_2"  # LO: 64 characters
    assert ds.RTROIObservationsSequence[0].ROIObservationLabel == "A" * 14 + "_2"  # SH: 16


def test_names_cleaning_made_equal_are_numbered() -> None:
    assert cleaned(["PTV_DOE", "PTV_SMITH", "PTV_X"], ["PTV", "PTV", "PTV_X"]) == ["PTV", "PTV_2", "PTV_X"]
    # A name cleaning left alone keeps it; the cleaned one is numbered, past names already there.
    assert cleaned(["PTV_DOE", "PTV", "PTV_2"], ["PTV", "PTV", "PTV_2"]) == ["PTV_3", "PTV", "PTV_2"]


def test_what_cleaning_did_not_merge_stays() -> None:
    assert cleaned(["PTV", "PTV"], ["PTV", "PTV"]) == ["PTV", "PTV"]  # equal in the source
    assert cleaned(["GTV DOE", "GTV DOE"], ["GTV", "GTV"]) == ["GTV", "GTV"]  # one original, one name
    assert cleaned(["DOE", "SMITH"], ["", ""]) == ["", ""]  # cleaned to nothing: empty


def test_roi_names_with_dates_stay_distinct_in_a_cleaned_rtstruct() -> None:
    study = rt_study()
    rois = study[-3].StructureSetROISequence
    rois[0].ROIName, rois[1].ROIName, rois[2].ROIName = "PTV_20230314", "PTV_20230401", "PTV"
    body = json.dumps({"Options": ["CleanDescriptors"]}).encode()
    output = OfflineEngine().run(encoded(study), parse_options(body))[-3]
    assert [roi.ROIName for roi in output.StructureSetROISequence] == ["PTV_2", "PTV_3", "PTV"]
