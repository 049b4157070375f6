"""The benchmark's studies have the structure they claim, and the same UIDs on every generation."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.uid import UID

from bench.generate import generate_study


def headers(files: list[Path]) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files]


def test_a_ct_with_rtstruct_is_one_study_two_series_one_frame_of_reference(tmp_path: Path) -> None:
    study = generate_study(tmp_path, 6, rtstruct=True)
    datasets = headers(study.files)
    cts = [d for d in datasets if d.Modality == "CT"]
    (rtstruct,) = [d for d in datasets if d.Modality == "RTSTRUCT"]
    assert len(cts) == 6
    assert {d.StudyInstanceUID for d in datasets} == {study.study_instance_uid}
    assert len({d.SeriesInstanceUID for d in cts}) == 2  # pydicom 3's generate_uid once gave one series per slice
    assert len({d.FrameOfReferenceUID for d in cts}) == 1
    assert len({d.SOPInstanceUID for d in datasets}) == 7
    assert all(UID(d.SOPInstanceUID).is_valid for d in datasets)
    # The RTSTRUCT references exactly the generated slices, on their frame of reference.
    contour_images = {
        item.ReferencedSOPInstanceUID
        for frame in rtstruct.ReferencedFrameOfReferenceSequence
        for study_item in frame.RTReferencedStudySequence
        for series in study_item.RTReferencedSeriesSequence
        for item in series.ContourImageSequence
    }
    assert contour_images == {d.SOPInstanceUID for d in cts}
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == cts[0].FrameOfReferenceUID


def test_two_generations_give_the_same_uids(tmp_path: Path) -> None:
    first = headers(generate_study(tmp_path / "a", 4).files)
    second = headers(generate_study(tmp_path / "b", 4).files)
    assert [d.SOPInstanceUID for d in first] == [d.SOPInstanceUID for d in second]
    assert [d.SeriesInstanceUID for d in first] == [d.SeriesInstanceUID for d in second]
