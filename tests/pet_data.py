"""A PET series shaped like a scanner's, and the SUV body-weight factor computed from it.

pydicom ships no PET file, so the series is built from CT_small's patient, study,
equipment and pixel data under the PET Image IOD: PET Series, PET Isotope (with the
Radiopharmaceutical Information Sequence), NM/PET Patient Orientation and PET Image.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
from pydicom.valuerep import DA, DT, TM

from tests.dicom_data import read

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"

# F-18 half-life as scanners write it. The uptake time is exactly one half-life
# (1 h 49 min 46.2 s) so that the SUVbw factor can be checked by hand:
# 75 kg -> 75000 g over half of 370 MBq = 75000 / 185e6 g/Bq.
F18_HALF_LIFE_S = 6586.2
PET_WEIGHT_KG = 75.0
PET_SIZE_M = 1.78
PET_DOSE_BQ = 370e6
PET_INJECTION = datetime(2024, 3, 15, 8, 0, 0)
PET_SERIES_START = PET_INJECTION + timedelta(seconds=F18_HALF_LIFE_S)
PET_EXPECTED_SUV_BW_FACTOR = 75000 / 185e6
SLICES_PER_BED = 3
BED_DURATION_S = 120

# Identifying values of the source (CT_small) that the PET series carries over, so that
# privacy tests find them if they leak.
_CARRIED_OVER = (
    "SpecificCharacterSet",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "Manufacturer",
    "InstitutionName",
    "ReferringPhysicianName",
    "TimezoneOffsetFromUTC",
    "StationName",
    "ManufacturerModelName",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
    "PatientAge",
    "SoftwareVersions",
    "StudyID",
    "PositionReferenceIndicator",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "PixelData",
)


def _dicom_time(moment: datetime) -> str:
    return moment.strftime("%H%M%S.%f").rstrip("0").rstrip(".")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _radiopharmaceutical() -> Dataset:
    item = Dataset()
    item.RadionuclideCodeSequence = Sequence([_code("77004003", "SCT", "^18^Fluorine")])
    item.RadiopharmaceuticalRoute = "Intravenous route"
    item.RadiopharmaceuticalVolume = "8.5"
    item.RadiopharmaceuticalStartTime = _dicom_time(PET_INJECTION)
    item.RadiopharmaceuticalStartDateTime = PET_INJECTION.strftime("%Y%m%d%H%M%S")
    item.RadionuclideTotalDose = f"{PET_DOSE_BQ:.0f}"
    item.RadionuclideHalfLife = str(F18_HALF_LIFE_S)
    item.RadionuclidePositronFraction = "0.9673"
    item.Radiopharmaceutical = "Fluorodeoxyglucose"
    item.RadiopharmaceuticalCodeSequence = Sequence([_code("35321007", "SCT", "Fluorodeoxyglucose F^18^")])
    return item


def _orientation() -> tuple[Sequence, Sequence]:
    recumbent = _code("102538003", "SCT", "recumbent")
    recumbent.PatientOrientationModifierCodeSequence = Sequence([_code("40199007", "SCT", "supine")])
    return Sequence([recumbent]), Sequence([_code("102540008", "SCT", "headfirst")])


def _series_template(n: int, patient_name: str, patient_id: str) -> Dataset:
    """What every image of the series shares: patient, study, series, equipment, isotope, pixels."""
    source = read("CT_small.dcm")
    pet = Dataset()
    for keyword in _CARRIED_OVER:
        if keyword in source:
            pet[keyword] = copy.deepcopy(source[keyword])
    pet.SOPClassUID = PET_IMAGE_STORAGE
    pet.Modality = "PT"
    pet.PatientName, pet.PatientID = patient_name, patient_id
    pet.PatientWeight, pet.PatientSize = str(PET_WEIGHT_KG), str(PET_SIZE_M)
    pet.StudyInstanceUID, pet.SeriesInstanceUID = generate_uid(), generate_uid()
    pet.FrameOfReferenceUID = generate_uid()
    pet.StudyDescription, pet.SeriesDescription = "PET-CT WHOLE BODY", "WB FDG AC"
    pet.SeriesNumber = "3"
    pet.SeriesDate = pet.AcquisitionDate = pet.ContentDate = PET_SERIES_START.strftime("%Y%m%d")
    pet.SeriesTime = _dicom_time(PET_SERIES_START)
    pet.DeviceSerialNumber = "PET0815"
    # Without it dciodvfy cannot tell that Laterality (2C) is not needed.
    pet.BodyPartExamined = "WHOLEBODY"
    # PET Series module
    pet.Units = "BQML"
    pet.CountsSource = "EMISSION"
    pet.SeriesType = ["STATIC", "IMAGE"]
    pet.NumberOfSlices = n
    pet.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    pet.DecayCorrection = "START"
    pet.RandomsCorrectionMethod = "DLYD"
    pet.AttenuationCorrectionMethod = "CT-based"
    pet.ReconstructionMethod = "OSEM 3i21s"
    pet.CollimatorType = "NONE"
    # PET Isotope and NM/PET Patient Orientation modules
    pet.RadiopharmaceuticalInformationSequence = Sequence([_radiopharmaceutical()])
    pet.PatientOrientationCodeSequence, pet.PatientGantryRelationshipCodeSequence = _orientation()
    # PET Image module (Rescale Intercept shall be 0)
    pet.ImageType = ["ORIGINAL", "PRIMARY"]
    pet.RescaleIntercept = "0"
    pet.ActualFrameDuration = BED_DURATION_S * 1000
    return pet


def pet_series(n: int = 6, patient_name: str = "DOE^JOHN", patient_id: str = "12345") -> list[Dataset]:
    """``n`` PET images of one static whole-body FDG series, decay corrected to the series start.

    Slices are grouped in beds of ``SLICES_PER_BED``; each bed starts ``BED_DURATION_S`` later, so
    Acquisition Time is never before Series Time (the case the vendor-neutral SUV computation uses).
    Each slice has its own Rescale Slope, as scanners write them. Fresh UIDs on every call.
    """
    if n < 1:
        raise ValueError("a series has at least one image")
    template = _series_template(n, patient_name, patient_id)
    z0 = float(read("CT_small.dcm").ImagePositionPatient[2])
    position = list(read("CT_small.dcm").ImagePositionPatient)
    series = []
    for index in range(n):
        image = copy.deepcopy(template)
        bed_start = PET_SERIES_START + timedelta(seconds=BED_DURATION_S * (index // SLICES_PER_BED))
        image.SOPInstanceUID = generate_uid()
        image.InstanceNumber = index + 1
        image.ImageIndex = index + 1
        image.AcquisitionTime = image.ContentTime = _dicom_time(bed_start)
        image.ImagePositionPatient = [position[0], position[1], round(z0 - 5.0 * index, 4)]
        image.SliceLocation = image.ImagePositionPatient[2]
        image.RescaleSlope = f"{0.25 * (1 + index / 10):.6g}"
        frame_middle_s = (bed_start - PET_SERIES_START).total_seconds() + BED_DURATION_S / 2
        image.FrameReferenceTime = f"{frame_middle_s * 1000:.1f}"
        image.DecayFactor = f"{2 ** (frame_middle_s / F18_HALF_LIFE_S):.6f}"
        series.append(image)
    return series


def _datetime(date: str, time: str) -> datetime:
    return datetime.combine(DA(date), TM(time))


def suv_bw_factor(dataset: Dataset) -> float:
    """SUVbw scale factor in g/Bq: the rescaled pixel value (Bq/ml) times it is SUVbw (g/ml).

    The vendor-neutral computation of the QIBA SUV pseudo-code (qibawiki.rsna.org, "Standardized
    Uptake Value (SUV)"): for a BQML image, attenuation and decay corrected (ATTN, DECY) to the
    series start (START), whose Series Date/Time is not after its Acquisition Date/Time,

        SUVbw factor = weight[g] / (injected dose[Bq] * 2 ** (-(series start - injection)[s] / half life[s]))

    The injection instant is Radiopharmaceutical Start DateTime, else Series Date with
    Radiopharmaceutical Start Time. The pseudo-code's vendor branches (GE private scan time for
    post-processed series, Philips CNTS scaling) are refused with ValueError, as are missing data.
    """
    if dataset.get("Units") != "BQML":
        raise ValueError(f"Units must be BQML, not {dataset.get('Units')!r}")
    corrected = dataset.get("CorrectedImage") or []
    corrected = {corrected} if isinstance(corrected, str) else set(corrected)
    if not {"ATTN", "DECY"} <= corrected:
        raise ValueError("the image must be attenuation and decay corrected (ATTN, DECY)")
    if dataset.get("DecayCorrection") != "START":
        raise ValueError("decay must be corrected to the series start (START)")
    weight = dataset.get("PatientWeight")
    information = dataset.get("RadiopharmaceuticalInformationSequence") or []
    if not weight or not information:
        raise ValueError("Patient's Weight and the Radiopharmaceutical Information Sequence are needed")
    isotope = information[0]
    if not isotope.get("RadionuclideTotalDose") or not isotope.get("RadionuclideHalfLife"):
        raise ValueError("Radionuclide Total Dose and Radionuclide Half Life are needed")
    series = _datetime(dataset.SeriesDate, dataset.SeriesTime)
    if series > _datetime(dataset.AcquisitionDate, dataset.AcquisitionTime):
        raise ValueError("Series Date/Time after Acquisition Date/Time needs the vendor-specific branches")
    if isotope.get("RadiopharmaceuticalStartDateTime"):
        injection: datetime = DT(isotope.RadiopharmaceuticalStartDateTime)
        offset = dataset.get("TimezoneOffsetFromUTC")
        if injection.tzinfo is not None and offset:
            series = series.replace(tzinfo=DT(f"19700101{offset}").tzinfo)
        elif injection.tzinfo is not None:
            injection = injection.replace(tzinfo=None)
    elif isotope.get("RadiopharmaceuticalStartTime"):
        injection = _datetime(dataset.SeriesDate, isotope.RadiopharmaceuticalStartTime)
    else:
        raise ValueError("the injection time (Radiopharmaceutical Start DateTime or Time) is needed")
    uptake = (series - injection).total_seconds()
    if uptake < 0:
        raise ValueError("the injection is after the series start")
    decayed_dose = float(isotope.RadionuclideTotalDose) * 2 ** (-uptake / float(isotope.RadionuclideHalfLife))
    return float(weight) * 1000 / decayed_dose
