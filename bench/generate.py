"""Synthetic but realistic CT (and CT + RTSTRUCT) studies for the benchmark.

Everything is deterministic for a given case name, made with pydicom only (no
network, no numpy): two axial CT series sharing one FrameOfReferenceUID,
512x512 16-bit MONOCHROME2 slices with non-constant pixel bytes, a header of
the size and shape a scanner writes (patient, study, equipment, geometry,
request attributes, a private block), encoded as explicit VR little endian
Part 10 files. The RT case adds an RTSTRUCT whose ContourImageSequence lists
every CT slice and whose contours sit on the same FrameOfReference.

    python -m bench.generate --work bench/work 240 1000 rt:240
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian

GENERATOR_VERSION = 4
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_STRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
ROWS = COLUMNS = 512
SLICE_BYTES = ROWS * COLUMNS * 2
# One pool of random bytes; each slice is a different window of it.
_POOL_BYTES = 8 * SLICE_BYTES
_ROI_NAMES = ("BODY", "PTV", "SPINAL_CORD", "LUNG_L")
_CONTOUR_POINTS = 48


@dataclass(frozen=True)
class GeneratedStudy:
    """Files of one study on disk, in upload order."""

    case: str
    directory: Path
    files: list[Path]
    study_instance_uid: str
    ct_count: int
    has_rtstruct: bool

    @property
    def instance_count(self) -> int:
        return len(self.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)


def case_name(ct_count: int, rtstruct: bool, copy: int = 0) -> str:
    """``copy`` > 0 names another patient's study of the same shape (concurrent runs need distinct studies)."""
    return f"ct{ct_count}" + ("_rtstruct" if rtstruct else "") + (f"_copy{copy}" if copy else "")


def _uid(case: str, *parts: object) -> str:
    """A deterministic 2.25 UID for this case and these parts.

    Not ``generate_uid(prefix=None, entropy_srcs=...)``: pydicom 3 ignores the
    entropy without a prefix and returns a random UID, which made every slice
    its own series (versions 1-3 of this generator).
    """
    seed = "|".join([f"anon-consistent-bench-v{GENERATOR_VERSION}", case, *map(str, parts)])
    return "2.25." + str(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:16], "big"))


def _pixel_pool(seed: str) -> bytes:
    """Random 12-bit little-endian samples (high byte masked to 0..15), made in C-speed steps."""
    raw = bytearray(random.Random(seed).randbytes(_POOL_BYTES))
    raw[1::2] = bytes(raw[1::2]).translate(bytes(b & 0x0F for b in range(256)))
    return bytes(raw)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _patient(case: str) -> dict[str, object]:
    rng = random.Random(case)
    family = rng.choice(["MULLER", "DUPONT", "ROSSI", "JANSSENS", "NOWAK", "GARCIA"])
    given = rng.choice(["ANNA", "JEAN", "MARIA", "PIETER", "LUCA", "SOFIA"])
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 60 * 365))
    study_day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
    return {
        "PatientName": f"{family}^{given}^^^",
        "PatientID": f"PID{rng.randrange(10**7, 10**8)}",
        "PatientBirthDate": birth.strftime("%Y%m%d"),
        "PatientSex": rng.choice("MF"),
        "PatientAge": f"{(study_day - birth).days // 365:03d}Y",
        "PatientWeight": f"{rng.uniform(50, 100):.1f}",
        "PatientSize": f"{rng.uniform(1.5, 1.95):.2f}",
        "AccessionNumber": f"ACC{rng.randrange(10**8, 10**9)}",
        "StudyID": str(rng.randrange(1000, 99999)),
        "StudyDate": study_day.strftime("%Y%m%d"),
        "StudyTime": f"{rng.randrange(7, 19):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}.000000",
    }


def _common(ds: Dataset, patient: dict[str, object], study_uid: str) -> None:
    """Patient, study, equipment: identical in every instance of the study."""
    ds.SpecificCharacterSet = "ISO_IR 100"
    for key, value in patient.items():
        setattr(ds, key, value)
    ds.StudyInstanceUID = study_uid
    ds.StudyDescription = "CT THORAX ABDOMEN W CONTRAST"
    ds.ReferringPhysicianName = "HOUSE^GREGORY^^DR"
    ds.PhysiciansOfRecord = "WILSON^JAMES"
    ds.NameOfPhysiciansReadingStudy = "CAMERON^ALLISON"
    other_id = Dataset()
    other_id.PatientID = f"ALT-{patient['PatientID']}"
    other_id.IssuerOfPatientID = "REGIONAL-MPI"
    other_id.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other_id])
    ds.PatientAddress = "12 RUE DE LA PAIX, 75002 PARIS"
    ds.PatientTelephoneNumbers = "+33123456789"
    ds.EthnicGroup = "EUROPEAN"
    ds.AdditionalPatientHistory = "Follow-up after lobectomy 2021, no known allergies"
    ds.InstitutionName = "SAINT EXAMPLE UNIVERSITY HOSPITAL"
    ds.InstitutionAddress = "1 HOSPITAL ROAD, SPRINGFIELD"
    ds.InstitutionalDepartmentName = "RADIOLOGY"
    ds.StationName = "CTAWP71234"
    ds.Manufacturer = "SIEMENS"
    ds.ManufacturerModelName = "SOMATOM Definition AS+"
    ds.DeviceSerialNumber = "71234"
    ds.SoftwareVersions = "syngo CT VA48A"
    ds.OperatorsName = "TECH^ROBIN"
    ds.PerformingPhysicianName = "FOREMAN^ERIC"
    request = Dataset()
    request.RequestedProcedureID = f"RP{patient['AccessionNumber']}"
    request.ScheduledProcedureStepID = f"SPS{patient['StudyID']}"
    request.RequestedProcedureDescription = "CT THORAX ABDOMEN"
    request.AccessionNumber = patient["AccessionNumber"]
    ds.RequestAttributesSequence = Sequence([request])
    ds.ProcedureCodeSequence = Sequence([_code("CTTHAB", "L", "CT THORAX ABDOMEN")])
    ds.PerformedProcedureStepStartDate = patient["StudyDate"]
    ds.PerformedProcedureStepStartTime = patient["StudyTime"]
    ds.PerformedProcedureStepID = f"PPS{patient['StudyID']}"
    ds.PerformedProcedureStepDescription = "CT THORAX ABDOMEN"


def _ct_slice(
    case: str,
    patient: dict[str, object],
    study_uid: str,
    series_uid: str,
    for_uid: str,
    series_number: int,
    index: int,
    pixels: bytes,
    pixel_offset: int,
) -> Dataset:
    ds = Dataset()
    _common(ds, patient, study_uid)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "CT_SOM5 SPI"]
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = _uid(case, "sop", series_number, index)
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = "XY"
    ds.Modality = "CT"
    ds.SeriesNumber = series_number
    ds.SeriesDescription = "Thorax 1.0 B31f" if series_number == 2 else "Abdomen 1.0 B30f"
    ds.ProtocolName = "ThoraxAbdomen_Routine"
    ds.BodyPartExamined = "CHEST" if series_number == 2 else "ABDOMEN"
    study_date, study_time = str(patient["StudyDate"]), str(patient["StudyTime"])
    acquisition = f"{int(study_time[:2]):02d}{int(study_time[2:4]):02d}{index % 60:02d}.{index:06d}"
    for prefix in ("Series", "Acquisition", "Content"):
        setattr(ds, f"{prefix}Date", study_date)
        setattr(ds, f"{prefix}Time", acquisition if prefix != "Series" else study_time)
    ds.AcquisitionDateTime = study_date + acquisition
    ds.InstanceNumber = index + 1
    ds.AcquisitionNumber = 1
    ds.ScanOptions = "HELICAL MODE"
    ds.SliceThickness = "1.0"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = "380"
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "152"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = "210"
    ds.Exposure = "105"
    ds.FilterType = "FLAT"
    ds.GeneratorPower = "25"
    ds.FocalSpots = "1.2"
    ds.ConvolutionKernel = "B31f"
    ds.PatientPosition = "HFS"
    ds.CTDIvol = 8.7
    z = -100.0 - 1.0 * index if series_number == 2 else -400.0 - 1.0 * index
    ds.ImagePositionPatient = ["-190.0", "-190.0", f"{z:.1f}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.SliceLocation = f"{z:.1f}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ROWS
    ds.Columns = COLUMNS
    ds.PixelSpacing = ["0.7421875", "0.7421875"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1200"]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenterWidthExplanation = ["WINDOW1", "WINDOW2"]
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    ds.IrradiationEventUID = _uid(case, "irradiation", series_number)
    ds.ReferencedPerformedProcedureStepSequence = Sequence([_reference("1.2.840.10008.3.1.2.3.3", _uid(case, "pps"))])
    # A private block, as every scanner writes (removed by default by the profile).
    block = ds.private_block(0x0029, "ACME CT HEADER 1.0", create=True)
    block.add_new(0x10, "LO", "Routine Adult")
    block.add_new(0x11, "DS", "49.5")
    block.add_new(0x12, "UI", series_uid)
    block.add_new(0x20, "OB", b"STATION " + str(patient["PatientID"]).encode())
    ds.PixelData = pixels[pixel_offset : pixel_offset + SLICE_BYTES]
    ds["PixelData"].VR = "OW"
    return ds


def _reference(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


def _contour(center_x: float, center_y: float, radius: float, z: float) -> list[str]:
    points: list[str] = []
    for k in range(_CONTOUR_POINTS):
        angle = 2 * math.pi * k / _CONTOUR_POINTS
        points += [
            f"{center_x + radius * math.cos(angle):.2f}",
            f"{center_y + radius * math.sin(angle):.2f}",
            f"{z:.1f}",
        ]
    return points


def _rtstruct(case: str, patient: dict[str, object], study_uid: str, for_uid: str, cts: list[Dataset]) -> Dataset:
    ds = Dataset()
    _common(ds, patient, study_uid)
    ds.SOPClassUID = RT_STRUCT_STORAGE
    ds.SOPInstanceUID = _uid(case, "rtstruct")
    ds.SeriesInstanceUID = _uid(case, "series", "rtstruct")
    ds.Modality = "RTSTRUCT"
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = ""
    ds.SeriesNumber = 100
    ds.InstanceNumber = 1
    ds.SeriesDescription = "RT Structure Set"
    ds.StructureSetLabel = "PLANNING"
    ds.StructureSetName = "PLANNING"
    ds.StructureSetDate = patient["StudyDate"]
    ds.StructureSetTime = "120000"
    ds.ContentDate = patient["StudyDate"]
    ds.ContentTime = "120000"
    ds.ApprovalStatus = "UNAPPROVED"
    ds.ReferencedStudySequence = Sequence([_reference("1.2.840.10008.3.1.2.3.1", study_uid)])

    by_series: dict[str, list[Dataset]] = {}
    for ct in cts:
        by_series.setdefault(ct.SeriesInstanceUID, []).append(ct)
    series_items = []
    for series_uid, images in by_series.items():
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ContourImageSequence = Sequence([_reference(c.SOPClassUID, c.SOPInstanceUID) for c in images])
        series_items.append(series)
    study = _reference("1.2.840.10008.3.1.2.3.1", study_uid)
    study.RTReferencedSeriesSequence = Sequence(series_items)
    frame = Dataset()
    frame.FrameOfReferenceUID = for_uid
    frame.RTReferencedStudySequence = Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])

    rois, contours, observations = [], [], []
    for number, name in enumerate(_ROI_NAMES, start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = for_uid
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        roi_contour = Dataset()
        roi_contour.ROIDisplayColor = [255 * (number % 2), 128, 255 * (number // 3)]
        roi_contour.ReferencedROINumber = number
        items = []
        for ct in cts[number - 1 :: len(_ROI_NAMES)]:
            item = Dataset()
            item.ContourImageSequence = Sequence([_reference(ct.SOPClassUID, ct.SOPInstanceUID)])
            item.ContourGeometricType = "CLOSED_PLANAR"
            item.NumberOfContourPoints = _CONTOUR_POINTS
            item.ContourData = _contour(0.0, 10.0 * number, 20.0 + 10 * number, float(ct.ImagePositionPatient[2]))
            items.append(item)
        roi_contour.ContourSequence = Sequence(items)
        contours.append(roi_contour)
        observation = Dataset()
        observation.ObservationNumber = number
        observation.ReferencedROINumber = number
        observation.RTROIInterpretedType = "EXTERNAL" if name == "BODY" else "ORGAN"
        observation.ROIInterpreter = "DOSIMETRIST^PAT"
        observations.append(observation)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    ds.RTROIObservationsSequence = Sequence(observations)
    return ds


def _write(ds: Dataset, path: Path) -> None:
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.8.498.1")
    meta.SourceApplicationEntityTitle = "CTAWP71234"
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)


def generate_study(work: Path, ct_count: int, rtstruct: bool = False, copy: int = 0) -> GeneratedStudy:
    """Write (or reuse) one study under ``work``/<case>; returns its files."""
    case = case_name(ct_count, rtstruct, copy)
    directory = work / case
    manifest_path = directory / "manifest.json"
    expected = {"generator": GENERATOR_VERSION, "ct": ct_count, "rtstruct": rtstruct}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        known = [directory / name for name in manifest["files"]]
        if manifest.get("params") == expected and all(f.exists() for f in known):
            return GeneratedStudy(case, directory, known, manifest["study"], ct_count, rtstruct)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.dcm"):
        old.unlink()

    patient = _patient(case)
    study_uid = _uid(case, "study")
    for_uid = _uid(case, "frame-of-reference")
    pixels = _pixel_pool(case)
    # Two series (thorax and abdomen reconstructions) sharing one FrameOfReference.
    first = (ct_count + 1) // 2
    files: list[Path] = []
    cts: list[Dataset] = []
    for i in range(ct_count):
        series_number, index = (2, i) if i < first else (3, i - first)
        series_uid = _uid(case, "series", series_number)
        offset = (i * 7919 * 2) % (_POOL_BYTES - SLICE_BYTES)
        ct = _ct_slice(case, patient, study_uid, series_uid, for_uid, series_number, index, pixels, offset)
        path = directory / f"CT{i:05d}.dcm"
        _write(ct, path)
        files.append(path)
        del ct.PixelData  # keep only headers in memory for the RTSTRUCT
        cts.append(ct)
    if rtstruct:
        path = directory / "RS00000.dcm"
        _write(_rtstruct(case, patient, study_uid, for_uid, cts), path)
        files.append(path)
    manifest_path.write_text(
        json.dumps({"params": expected, "study": study_uid, "files": [f.name for f in files]}, indent=1)
    )
    return GeneratedStudy(case, directory, files, study_uid, ct_count, rtstruct)


def parse_case(text: str) -> tuple[int, bool]:
    """``240`` is a CT study of 240 slices, ``rt:240`` the same plus an RTSTRUCT."""
    rtstruct = text.startswith("rt:")
    count = int(text.removeprefix("rt:"))
    if count < 1:
        raise ValueError(f"a study needs at least one CT instance: {text!r}")
    return count, rtstruct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path(__file__).with_name("work"))
    parser.add_argument("cases", nargs="+", help="e.g. 240 1000 rt:240")
    args = parser.parse_args()
    for text in args.cases:
        study = generate_study(args.work, *parse_case(text))
        print(f"{study.case}: {study.instance_count} files, {study.total_bytes / 2**20:.1f} MiB in {study.directory}")


if __name__ == "__main__":
    main()
