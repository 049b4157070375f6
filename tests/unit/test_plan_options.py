"""The action of listed attributes: option columns (K keeps, C cleans) and choices decided by the attribute's Type."""

from __future__ import annotations

import json

import pytest
from pydicom.tag import Tag

from anon_consistent.options import AnonymizationOptions, parse_options
from anon_consistent.plan import Action, ElementPlan, Scope
from anon_consistent.profile import load_basic_profile

CT = "1.2.840.10008.5.1.4.1.1.2"
PET = "1.2.840.10008.5.1.4.1.1.128"
RT_STRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
RT_PLAN = "1.2.840.10008.5.1.4.1.1.481.5"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"
SR = "1.2.840.10008.5.1.4.1.1.88.33"
ECG = "1.2.840.10008.5.1.4.1.1.9.1.1"
RT_PRESCRIPTION = "1.2.840.10008.5.1.4.1.1.481.18"  # Enhanced RT Prescription: PrescriptionNotesSequence is Type 3
UNKNOWN = "1.2.3.4.5"


def plan(*names: str, sop_class: str = CT) -> ElementPlan:
    options = parse_options(json.dumps({"Options": list(names)}).encode()) if names else AnonymizationOptions()
    return ElementPlan(load_basic_profile(), options).for_sop_class(sop_class)


def action(keyword: str, vr: str, sop_class: str = CT, *names: str, path: tuple[str, ...] = ()) -> Action:
    scope = Scope.ITEM if path else Scope.NORMAL
    nested = tuple(int(Tag(k)) for k in path)
    return plan(*names, sop_class=sop_class).action(Tag(keyword), vr, scope, nested)


@pytest.mark.parametrize(
    ("keyword", "vr", "sop_class", "expected"),
    [
        # X/Z/D: Type 3 -> removed (StationName used to stay as ANONYMIZED), Type 2 -> empty, Type 1 -> dummy
        ("StationName", "SH", CT, Action.REMOVE),
        ("OperatorsName", "PN", CT, Action.REMOVE),
        ("OperatorsName", "PN", RT_STRUCT, Action.EMPTY),
        ("DeviceSerialNumber", "LO", SEG, Action.DUMMY),
        # X/D: Type 1 -> dummy; Type 2 cannot be emptied (no Z): dummy
        ("SeriesDate", "DA", PET, Action.DUMMY),
        ("SeriesDate", "DA", CT, Action.REMOVE),
        ("RTPlanDate", "DA", RT_PLAN, Action.DUMMY),
        # X/Z
        ("AcquisitionDate", "DA", PET, Action.EMPTY),
        ("AcquisitionDate", "DA", CT, Action.REMOVE),
        # Z/D: no X, so a Type 3 or unknown attribute is emptied
        ("ContentDate", "DA", SR, Action.DUMMY),
        ("ContentDate", "DA", CT, Action.EMPTY),
        ("ContentDate", "DA", UNKNOWN, Action.EMPTY),
        # an unknown SOP Class or an attribute its IOD does not have: removed
        ("StationName", "SH", UNKNOWN, Action.REMOVE),
        ("RTPlanDate", "DA", CT, Action.REMOVE),
        # not a choice: the table's action whatever the Type
        ("AccessionNumber", "SH", CT, Action.EMPTY),
        ("StudyDate", "DA", UNKNOWN, Action.EMPTY),
    ],
)
def test_a_choice_is_decided_by_the_type_in_the_iod(keyword: str, vr: str, sop_class: str, expected: Action) -> None:
    assert action(keyword, vr, sop_class) is expected


@pytest.mark.parametrize(
    ("keyword", "sop_class", "path", "expected"),
    [
        # X/Z sequences: zero items only where the sequence is Type 2
        ("ReferencedStudySequence", CT, (), Action.REMOVE),
        ("ReferencedStudySequence", SR, ("ReferencedRequestSequence",), Action.EMPTY),
        ("AcquisitionContextSequence", ECG, (), Action.EMPTY),
        ("AcquisitionContextSequence", CT, (), Action.REMOVE),
        # X/Z/D: Type 1C keeps the items (cleaned), Type 2 zero items, Type 3 removed
        ("ReferencedPerformedProcedureStepSequence", SEG, (), Action.RECURSE_CLEANED),
        ("ReferencedPerformedProcedureStepSequence", SR, (), Action.EMPTY),
        ("ReferencedPerformedProcedureStepSequence", CT, (), Action.REMOVE),
        # Z sequences: zero items where Type 2, removed where Type 3 ("one or more Items")
        ("VerifyingObserverIdentificationCodeSequence", SR, ("VerifyingObserverSequence",), Action.EMPTY),
        ("PrescriptionNotesSequence", RT_PRESCRIPTION, ("RTPrescriptionSequence",), Action.REMOVE),
        # X/Z/U* references stay, their UIDs remapped, whatever the Type
        ("ReferencedImageSequence", CT, (), Action.RECURSE),
    ],
)
def test_sequences_are_never_left_with_zero_items_where_that_is_invalid(
    keyword: str, sop_class: str, path: tuple[str, ...], expected: Action
) -> None:
    assert action(keyword, "SQ", sop_class, path=path) is expected


def test_the_same_tag_differs_by_its_path_within_one_plan() -> None:
    sr = plan(sop_class=SR)
    tag = Tag("ReferencedStudySequence")
    nested = (int(Tag("ReferencedRequestSequence")),)
    assert sr.resolve(tag, "SQ", Scope.NORMAL) == (Action.REMOVE, "SQ")
    assert sr.resolve(tag, "SQ", Scope.ITEM, nested) == (Action.EMPTY, "SQ")
    assert sr.resolve(tag, "SQ", Scope.NORMAL) == (Action.REMOVE, "SQ")  # cached per path, not mixed up


def test_one_plan_per_sop_class_and_call() -> None:
    root = ElementPlan(load_basic_profile(), AnonymizationOptions())
    ct = root.for_sop_class(CT + "\x00")
    assert ct is root.for_sop_class(CT) and ct.for_sop_class(CT) is ct
    assert root.for_sop_class(SR) is not ct and root.for_sop_class(SR).options is root.options


@pytest.mark.parametrize(
    ("keyword", "vr", "names", "expected"),
    [
        # K of any requested option keeps (and only that option's attributes)
        ("PatientWeight", "DS", ("RetainPatientCharacteristics",), Action.KEEP),
        ("PatientWeight", "DS", ("RetainDeviceIdentity",), Action.REMOVE),
        ("StationName", "SH", ("RetainDeviceIdentity",), Action.KEEP),
        ("InstitutionName", "LO", ("RetainInstitutionIdentity",), Action.KEEP),
        ("InstitutionCodeSequence", "SQ", ("RetainInstitutionIdentity",), Action.RECURSE),
        ("ReferencedPatientSequence", "SQ", ("RetainUIDs",), Action.RECURSE),
        ("StudyDate", "DA", ("RetainLongitudinalFullDates",), Action.KEEP),
        ("AcquisitionTime", "TM", ("RetainLongitudinalFullDates",), Action.KEEP),
        # Modified Dates: dates shifted, times kept; even where another option keeps the date
        ("StudyDate", "DA", ("RetainLongitudinalModifiedDates",), Action.SHIFT_DATE),
        ("AcquisitionTime", "TM", ("RetainLongitudinalModifiedDates",), Action.KEEP),
        ("DateOfLastCalibration", "DA", ("RetainDeviceIdentity",), Action.KEEP),
        ("DateOfLastCalibration", "DA", ("RetainDeviceIdentity", "RetainLongitudinalModifiedDates"), Action.SHIFT_DATE),
        ("DateOfLastCalibration", "DA", ("RetainDeviceIdentity", "RetainLongitudinalFullDates"), Action.KEEP),
        # C cleans text as a descriptor
        ("SeriesDescription", "LO", ("CleanDescriptors",), Action.CLEAN_TEXT),
        ("ProtocolName", "LO", ("CleanDescriptors",), Action.CLEAN_TEXT),
        ("StationAETitle", "AE", ("RetainDeviceIdentity",), Action.CLEAN_TEXT),
        ("Allergies", "LO", ("RetainPatientCharacteristics",), Action.CLEAN_TEXT),
        ("AdmittingDiagnosesCodeSequence", "SQ", ("CleanDescriptors",), Action.RECURSE_DESCRIPTOR),
        # ...but binary values cannot be cleaned: the Basic Profile action stands
        ("MakerNote", "OB", ("CleanDescriptors",), Action.REMOVE),
        ("60003000", "OW", ("CleanGraphics",), Action.REMOVE_OVERLAY),  # OverlayData
        # C of the Clean Structured Content and Clean Graphics options on sequences
        ("AcquisitionContextSequence", "SQ", ("CleanStructuredContent",), Action.RECURSE_CLEANED),
        ("SpecimenPreparationSequence", "SQ", ("CleanStructuredContent",), Action.RECURSE_CLEANED),
        ("GraphicAnnotationSequence", "SQ", ("CleanGraphics",), Action.RECURSE_GRAPHIC),
        ("GraphicAnnotationSequence", "SQ", (), Action.RECURSE_CLEANED),
        ("60004000", "LT", ("CleanGraphics",), Action.CLEAN_TEXT),  # OverlayComments
    ],
)
def test_option_columns(keyword: str, vr: str, names: tuple[str, ...], expected: Action) -> None:
    assert action(keyword, vr, CT, *names) is expected


def test_a_cleaned_type_1_attribute_falls_back_to_a_dummy() -> None:
    # StructureSetLabel: D in the Basic Profile, C in Clean Descriptors, Type 1 in RTSTRUCT
    assert action("StructureSetLabel", "SH", RT_STRUCT, "CleanDescriptors") is Action.CLEAN_TEXT_OR_DUMMY
    assert action("StructureSetLabel", "SH", RT_STRUCT) is Action.DUMMY
    assert action("ROIName", "LO", RT_STRUCT, "CleanDescriptors", path=("StructureSetROISequence",)) is (
        Action.CLEAN_TEXT
    )  # Type 2 there: cleaning it to nothing leaves it empty
    assert action("ROIName", "LO", RT_STRUCT, path=("StructureSetROISequence",)) is Action.EMPTY  # Z


def test_text_of_a_graphic_annotation_is_cleaned_with_clean_graphics() -> None:
    graphic = plan("CleanGraphics")
    assert graphic.action(Tag("UnformattedTextValue"), "ST", Scope.GRAPHIC) is Action.CLEAN_TEXT
    assert graphic.action(Tag(0x00091001), "LO", Scope.GRAPHIC) is Action.REMOVE  # private: as ever
    assert plan().action(Tag("UnformattedTextValue"), "ST", Scope.CLEANED) is Action.DUMMY
    assert plan("CleanDescriptors").action(Tag("UnformattedTextValue"), "ST", Scope.CLEANED) is Action.CLEAN_TEXT


def test_only_plans_that_clean_text_read_the_identifiers() -> None:
    assert not plan().cleans_text and not plan("RetainUIDs", "RetainLongitudinalFullDates").cleans_text
    for name in (
        "CleanDescriptors",
        "CleanGraphics",
        "CleanStructuredContent",
        "RetainDeviceIdentity",
        "RetainPatientCharacteristics",
    ):
        assert plan(name).cleans_text
