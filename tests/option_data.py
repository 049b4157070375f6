"""Instances for the PS3.15 options tests: a PET series with radiopharmaceutical information, identifying details.

(Branch issue9-fixtures builds richer real-shaped data; these are just enough
for the option rules and their dciodvfy and privacy checks.)
"""

from __future__ import annotations

import datetime as dt

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, generate_uid

from tests.dicom_data import read

PET_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.128")
F18_HALF_LIFE = 6586.2  # seconds

PATIENT_NAME = "Doe^Jane^Q"
PATIENT_ID = "PID-778123"


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def pet_series(count: int = 2) -> list[Dataset]:
    """PET instances (from CT_small's pixels) with what SUV needs: weight, dose, injection and series times."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    instances = []
    for number in range(1, count + 1):
        ds = read("CT_small.dcm")
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = PET_IMAGE_STORAGE
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.InstanceNumber = "PT", number
        ds.PatientName, ds.PatientID = PATIENT_NAME, PATIENT_ID
        ds.PatientWeight, ds.PatientSize, ds.PatientAge, ds.PatientSex = "72.5", "1.68", "061Y", "F"
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20230314"
        ds.StudyTime, ds.SeriesTime, ds.AcquisitionTime, ds.ContentTime = "101500", "113000", "113000", "113000"
        ds.Units, ds.DecayCorrection, ds.CorrectedImage = "BQML", "START", ["ATTN", "DECY"]
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        drug = Dataset()
        drug.Radiopharmaceutical = "Fluorodeoxyglucose"
        drug.RadiopharmaceuticalStartTime = "103000"
        drug.RadiopharmaceuticalStartDateTime = "20230314103000"
        drug.RadionuclideTotalDose = "370000000"
        drug.RadionuclideHalfLife = str(F18_HALF_LIFE)
        drug.RadionuclidePositronFraction = "0.97"
        drug.RadionuclideCodeSequence = Sequence([code("C-111A1", "SRT", "^18^Fluorine")])
        ds.RadiopharmaceuticalInformationSequence = Sequence([drug])
        instances.append(ds)
    return instances


def suv_body_weight_factor(ds: Dataset) -> float:
    """SUVbw = pixel (Bq/ml) x this factor: weight (g) / dose decayed to the series start (Bq)."""
    drug = ds.RadiopharmaceuticalInformationSequence[0]
    injected = dt.datetime.strptime(str(drug.RadiopharmaceuticalStartDateTime)[:14], "%Y%m%d%H%M%S")
    scan = dt.datetime.strptime(f"{ds.SeriesDate}{str(ds.SeriesTime)[:6]}", "%Y%m%d%H%M%S")
    elapsed = (scan - injected).total_seconds()
    decayed = float(drug.RadionuclideTotalDose) * 2 ** (-elapsed / float(drug.RadionuclideHalfLife))
    return float(ds.PatientWeight) * 1000 / decayed


def with_identifying_details(ds: Dataset) -> Dataset:
    """Identifying values where the options keep or clean: descriptions carrying the patient's name and ID,
    device and institution identity, AE titles, free-text patient notes."""
    ds.PatientName, ds.PatientID = PATIENT_NAME, PATIENT_ID
    ds.PatientBirthDate = "19620411"
    ds.OtherPatientIDs = "OTHER-55123"
    ds.AccessionNumber = "ACC-99812"
    ds.StudyDescription = "PET CT WB DOE JANE PID-778123"
    ds.SeriesDescription = "AX T1 Doe^Jane 20230314"
    ds.ProtocolName = "WB jane_doe"
    ds.ImageComments = "seen by Dr Referrer, PID-778123"
    ds.InstitutionName = "Saint Example Hospital"
    ds.InstitutionAddress = "1 Example Street"
    ds.InstitutionalDepartmentName = "Nuclear Medicine"
    ds.StationName = "PETCT01"
    ds.DeviceSerialNumber = "SN-4471"
    ds.StationAETitle = "DOE_PET"
    ds.ReferringPhysicianName = "Referrer^Rita"
    ds.OperatorsName = "Operator^Otto"
    ds.PatientWeight, ds.PatientSize, ds.PatientAge = "72.5", "1.68", "061Y"
    ds.Allergies = "latex (reported by Doe Jane)"
    # Coded sequences Clean Descriptors cleans: their codes carry free text too.
    ds.ReasonForVisitCodeSequence = Sequence([code("778123", "99LOCAL", "Doe Jane follow-up")])
    ds.AdmittingDiagnosesCodeSequence = Sequence([code("X1", "99LOCAL", "Fall at home, reported by Jane Doe")])
    return ds
