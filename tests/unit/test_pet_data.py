"""The PET series builder and the SUVbw factor, checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.dciodvfy import DCIODVFY, iod_errors
from tests.dicom_data import encode
from tests.pet_data import PET_EXPECTED_SUV_BW_FACTOR, PET_IMAGE_STORAGE, pet_series, suv_bw_factor


def test_series_has_the_pet_modules_scanners_write() -> None:
    series = pet_series(5, "ROE^JANE", "P-77")
    assert len(series) == 5
    assert len({ds.SOPInstanceUID for ds in series}) == 5
    assert len({ds.SeriesInstanceUID for ds in series}) == 1
    first = series[0]
    assert first.SOPClassUID == PET_IMAGE_STORAGE and first.Modality == "PT"
    assert (str(first.PatientName), first.PatientID) == ("ROE^JANE", "P-77")
    assert (first.Units, first.DecayCorrection, first.NumberOfSlices) == ("BQML", "START", 5)
    assert {"ATTN", "DECY"} <= set(first.CorrectedImage)
    assert (float(first.PatientWeight), float(first.PatientSize)) == (75.0, 1.78)
    isotope = first.RadiopharmaceuticalInformationSequence[0]
    assert float(isotope.RadionuclideTotalDose) == 370e6
    assert float(isotope.RadionuclideHalfLife) == 6586.2
    assert isotope.RadiopharmaceuticalStartTime == "080000"
    assert isotope.RadiopharmaceuticalStartDateTime == "20240315080000"
    assert isotope.Radiopharmaceutical == "Fluorodeoxyglucose"
    assert isotope.RadionuclideCodeSequence[0].CodeMeaning == "^18^Fluorine"
    assert (first.SeriesDate, first.SeriesTime) == ("20240315", "094946.2")
    assert [ds.ImageIndex for ds in series] == [1, 2, 3, 4, 5]
    assert all(float(ds.RescaleIntercept) == 0 for ds in series)
    assert len({ds.RescaleSlope for ds in series}) == 5  # per-slice scaling, as scanners write it
    # beds of three slices, two minutes each: acquisition never before the series start
    assert [ds.AcquisitionTime for ds in series] == ["094946.2"] * 3 + ["095146.2"] * 2


def test_every_call_gives_new_uids() -> None:
    assert pet_series(1)[0].StudyInstanceUID != pet_series(1)[0].StudyInstanceUID


def test_factor_of_the_series_is_the_hand_computed_one() -> None:
    # Uptake of exactly one F-18 half-life: 75 kg = 75000 g over 370 MBq / 2 = 185e6 Bq.
    assert PET_EXPECTED_SUV_BW_FACTOR == pytest.approx(4.054054054054054e-4, rel=1e-12)
    for image in pet_series(4):  # the later bed shares the series start
        assert suv_bw_factor(image) == pytest.approx(4.054054054054054e-4, rel=1e-12)


def pet(**changes: str) -> Dataset:
    """80 kg, 400 MBq of a 6000 s isotope injected at 23:00, series at 02:20 next day (two half-lives)."""
    isotope = Dataset()
    isotope.RadionuclideTotalDose, isotope.RadionuclideHalfLife = "400000000", "6000"
    isotope.RadiopharmaceuticalStartDateTime = "20240315230000"
    isotope.RadiopharmaceuticalStartTime = "230000"
    dataset = Dataset()
    dataset.Units, dataset.CorrectedImage, dataset.DecayCorrection = "BQML", ["ATTN", "DECY"], "START"
    dataset.PatientWeight = "80"
    dataset.SeriesDate = dataset.AcquisitionDate = "20240316"
    dataset.SeriesTime, dataset.AcquisitionTime = "022000", "022000"
    dataset.RadiopharmaceuticalInformationSequence = Sequence([isotope])
    for keyword, value in changes.items():
        target = isotope if keyword.startswith(("Radionuclide", "RadiopharmaceuticalStart")) else dataset
        if value == "":
            del target[keyword]
        else:
            setattr(target, keyword, value)
    return dataset


def test_injection_date_time_across_midnight() -> None:
    # 12000 s = two half-lives: 400 MBq -> 100 MBq; 80000 g / 100e6 Bq.
    assert suv_bw_factor(pet()) == pytest.approx(8e-4, rel=1e-12)


def test_injection_time_alone_is_taken_on_the_series_date() -> None:
    # 08:00 -> 09:40 is 6000 s, one half-life: 80000 g / 200e6 Bq.
    dataset = pet(
        RadiopharmaceuticalStartDateTime="",
        RadiopharmaceuticalStartTime="080000",
        SeriesTime="094000",
        AcquisitionTime="094000",
    )
    assert suv_bw_factor(dataset) == pytest.approx(4e-4, rel=1e-12)


def test_injection_with_a_timezone_is_compared_in_the_instance_timezone() -> None:
    # 09:00+0100 is 08:00 UTC; the series is at 09:40 UTC: 6000 s.
    dataset = pet(RadiopharmaceuticalStartDateTime="20240316090000+0100", SeriesTime="094000", AcquisitionTime="094000")
    dataset.TimezoneOffsetFromUTC = "+0000"
    assert suv_bw_factor(dataset) == pytest.approx(4e-4, rel=1e-12)


def test_the_factor_follows_weight_and_dose() -> None:
    assert suv_bw_factor(pet(PatientWeight="40")) == pytest.approx(4e-4, rel=1e-12)
    assert suv_bw_factor(pet(RadionuclideTotalDose="800000000")) == pytest.approx(4e-4, rel=1e-12)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"Units": "CNTS"}, "BQML"),
        ({"CorrectedImage": "ATTN"}, "DECY"),
        ({"DecayCorrection": "ADMIN"}, "START"),
        ({"PatientWeight": ""}, "Weight"),
        ({"RadionuclideHalfLife": ""}, "Half Life"),
        ({"SeriesTime": "023000"}, "after Acquisition"),
        ({"RadiopharmaceuticalStartDateTime": "20240316030000"}, "injection is after"),
        ({"RadiopharmaceuticalStartDateTime": "", "RadiopharmaceuticalStartTime": ""}, "injection time"),
    ],
)
def test_what_the_vendor_neutral_computation_cannot_use_is_refused(changes: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        suv_bw_factor(pet(**changes))


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_dciodvfy_finds_no_error_in_the_series(tmp_path: Path) -> None:
    for index, image in enumerate(pet_series(4)[::3]):
        path = tmp_path / f"pet{index}.dcm"
        path.write_bytes(encode(image))
        assert iod_errors(path) == set()
