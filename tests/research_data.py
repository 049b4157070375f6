"""Real-shaped test data for the PS3.15 options: what research keeps, and what must still go.

- ``pet_series`` / ``suv_bw_factor``: PET with radiopharmaceutical information (``tests.pet_data``);
- ``vendor_mr_instance``: MR with GE, Siemens and Philips private blocks (``tests.vendor_private``);
- ``rtstruct_with_roi_names``: an RTSTRUCT whose ROI names are the caller's;
- ``described_study``: CT whose descriptions carry the patient's name and ID.

Every builder returns new UIDs on each call and valid DICOM: dciodvfy reports no error the
source file does not have, and Orthanc 1.10.1 stores it.
"""

from __future__ import annotations

import copy

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.dicom_data import ct_study, read, reidentified
from tests.pet_data import PET_EXPECTED_SUV_BW_FACTOR, PET_IMAGE_STORAGE, pet_series, suv_bw_factor
from tests.vendor_private import PrivateElement, VendorMR, vendor_mr_instance

__all__ = [
    "CLINICAL_WORDS",
    "DESCRIPTOR_KEYWORDS",
    "PET_EXPECTED_SUV_BW_FACTOR",
    "PET_IMAGE_STORAGE",
    "PrivateElement",
    "VendorMR",
    "described_study",
    "pet_series",
    "rtstruct_with_roi_names",
    "suv_bw_factor",
    "vendor_mr_instance",
]

# Descriptors of Table E.1-1 (Clean Descriptors: C) that ``described_study`` fills.
DESCRIPTOR_KEYWORDS = ("StudyDescription", "SeriesDescription", "ProtocolName", "ImageComments")
# The non-identifying words written next to the identifiers: cleaning must leave them.
CLINICAL_WORDS = ("CT", "CHEST", "Scout", "SmartScore", "Gated", "sec", "contrast", "ok", "motion", "artefact")

_DETACHED_STUDY_MANAGEMENT = "1.2.840.10008.3.1.2.3.1"
_COLORS = ([255, 0, 0], [0, 128, 255], [0, 200, 0], [255, 200, 0], [200, 0, 200], [0, 200, 200])


def _name_parts(patient_name: str) -> tuple[str, str]:
    parts = [part for part in patient_name.split("^") if part]
    if not parts:
        raise ValueError("the patient name needs at least a family name")
    return parts[0], parts[1] if len(parts) > 1 else parts[0]


def described_study(patient_name: str = "DOE^JOHN", patient_id: str = "12345") -> list[Dataset]:
    """The two-series CT study of ``ct_study()`` under fresh UIDs, for this patient, whose
    descriptors carry the name's components and the ID in several cases and separators
    (``DOE JOHN``, ``doe_john``, ``John.Doe``, ``DOE,JOHN``, ``JOHN^DOE``, ``id:12345``...)
    next to ``CLINICAL_WORDS``. One instance's comment carries no identifier at all."""
    family, given = _name_parts(patient_name)
    fam, giv = family.lower(), given.lower()
    study = reidentified(ct_study())
    scout_series = study[0].SeriesInstanceUID
    comments = [
        f"pt {family},{given} id:{patient_id} contrast ok",
        f"{given}^{family}/{patient_id}",
        f"motion artefact {giv.title()} {fam.title()}",
        "motion artefact",
    ]
    for index, dataset in enumerate(study):
        dataset.PatientName, dataset.PatientID = patient_name, patient_id
        dataset.StudyDescription = f"CT CHEST {fam}_{giv} {patient_id}"
        if dataset.SeriesInstanceUID == scout_series:
            dataset.SeriesDescription = f"{dataset.SeriesDescription} {family} {given} {patient_id}".strip()
            dataset.ProtocolName = f"CHEST_{fam}-{giv}_{patient_id}"
        else:
            dataset.SeriesDescription = f"{giv.title()}.{fam.title()}-{patient_id} {dataset.SeriesDescription}"
            dataset.ProtocolName = f"{given}^{family} CHEST"
        dataset.ImageComments = comments[index % len(comments)]
    return study


def _labelled_ct_series(patient_name: str, patient_id: str) -> list[Dataset]:
    study = reidentified(ct_study())
    last = study[-1].SeriesInstanceUID
    series = [ds for ds in study if ds.SeriesInstanceUID == last]
    for dataset in series:
        dataset.PatientName, dataset.PatientID = patient_name, patient_id
    return series


def _image_reference(image: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = image.SOPClassUID, image.SOPInstanceUID
    return item


def _interpreted_type(name: str) -> str:
    upper = name.upper()
    for kind in ("PTV", "CTV", "GTV"):
        if kind in upper:
            return kind
    return "EXTERNAL" if upper in {"BODY", "EXTERNAL"} else "ORGAN"


def _reference_images(structure_set: Dataset, images: list[Dataset]) -> None:
    """Point the structure set at ``images`` (one series): frame of reference, study, series, images."""
    ct = images[0]
    structure_set.StudyInstanceUID = ct.StudyInstanceUID
    for keyword in ("StudyDate", "StudyTime", "StudyID", "AccessionNumber", "PatientBirthDate", "PatientSex"):
        if keyword in ct:
            structure_set[keyword] = copy.deepcopy(ct[keyword])
    structure_set.FrameOfReferenceUID = ct.FrameOfReferenceUID
    structure_set.PositionReferenceIndicator = ct.get("PositionReferenceIndicator", "")
    frame = structure_set.ReferencedFrameOfReferenceSequence[0]
    frame.FrameOfReferenceUID = ct.FrameOfReferenceUID
    study = frame.RTReferencedStudySequence[0]
    study.ReferencedSOPClassUID, study.ReferencedSOPInstanceUID = _DETACHED_STUDY_MANAGEMENT, ct.StudyInstanceUID
    series = study.RTReferencedSeriesSequence[0]
    series.SeriesInstanceUID = ct.SeriesInstanceUID
    series.ContourImageSequence = Sequence([_image_reference(image) for image in images])


def rtstruct_with_roi_names(
    names: list[str],
    patient_name: str = "DOE^JOHN",
    patient_id: str = "12345",
    images: list[Dataset] | None = None,
) -> Dataset:
    """pydicom's rtstruct.dcm with one ROI per name (ROI Name, ROI Description and, where it fits
    in SH, ROI Observation Label), on ``images`` (one CT series; by default ``ct_study()``'s last
    series relabelled for this patient). Each ROI has closed planar contours and an interpreted
    type guessed from its name (PTV, CTV, GTV, EXTERNAL, else ORGAN)."""
    if not names:
        raise ValueError("an RTSTRUCT has at least one ROI")
    images = images if images is not None else _labelled_ct_series(patient_name, patient_id)
    if len({image.SeriesInstanceUID for image in images}) != 1:
        raise ValueError("the images must be one series")
    structure_set = read("rtstruct.dcm")
    structure_set.PatientName, structure_set.PatientID = patient_name, patient_id
    structure_set.SeriesInstanceUID, structure_set.SOPInstanceUID = generate_uid(), generate_uid()
    _reference_images(structure_set, images)
    roi_template = structure_set.StructureSetROISequence[0]
    contour_template = structure_set.ROIContourSequence[0]
    observation_template = structure_set.RTROIObservationsSequence[0]
    rois, contours, observations = Sequence(), Sequence(), Sequence()
    for number, name in enumerate(names, start=1):
        roi = copy.deepcopy(roi_template)
        roi.ROINumber, roi.ROIName, roi.ROIDescription = number, name, name
        roi.ReferencedFrameOfReferenceUID = images[0].FrameOfReferenceUID
        rois.append(roi)
        contour = copy.deepcopy(contour_template)
        contour.ReferencedROINumber = number
        contour.ROIDisplayColor = _COLORS[(number - 1) % len(_COLORS)]
        contours.append(contour)
        observation = copy.deepcopy(observation_template)
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType = _interpreted_type(name)
        observation.ROIObservationDescription = name
        if len(name) <= 16:
            observation.ROIObservationLabel = name
        else:
            del observation.ROIObservationLabel
        observations.append(observation)
    structure_set.StructureSetROISequence = rois
    structure_set.ROIContourSequence = contours
    structure_set.RTROIObservationsSequence = observations
    return structure_set
