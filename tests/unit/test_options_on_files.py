"""Each PS3.15 option on real files: what it keeps, what it cleans, and how the output records it."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anon_consistent.options import parse_options
from anon_consistent.ps315_options import PROFILE_OPTIONS
from tests.dciodvfy import DCIODVFY, new_iod_errors
from tests.dicom_data import ct_study, encode, encoded, read, rt_study
from tests.engine import OfflineEngine
from tests.option_data import PATIENT_ID, code, pet_series, suv_body_weight_factor, with_identifying_details


def run(datasets: list[Dataset], *names: str, **fields: object) -> list[Dataset]:
    body = json.dumps({"Options": list(names), **fields}).encode()
    return OfflineEngine().run(encoded(datasets), parse_options(body))


def detailed_ct() -> Dataset:
    return with_identifying_details(ct_study()[0])


def identifying_words(text: str) -> set[str]:
    return {w for w in ("DOE", "JANE", "778123", "20230314", "2023-03-14", "REFERRER") if w in text.upper()}


def assert_cleaned(text: str, *kept: str) -> None:
    """The words a description should keep are there, in order, and no identifier is."""
    assert not identifying_words(text), text
    assert text.split()[: len(kept)] == list(kept), text


def test_retain_patient_characteristics_keeps_them_and_cleans_the_free_text() -> None:
    without, with_option = (run([detailed_ct()], *names)[0] for names in ((), ("RetainPatientCharacteristics",)))
    for keyword in ("PatientWeight", "PatientSize", "PatientAge", "Allergies"):
        assert keyword not in without
    assert (with_option.PatientWeight, with_option.PatientSize, with_option.PatientAge) == (72.5, 1.68, "061Y")
    assert with_option.Allergies.startswith("latex") and not identifying_words(with_option.Allergies)  # C: cleaned


def test_pet_suv_factor_survives_with_patient_characteristics_and_modified_dates() -> None:
    originals = pet_series()
    outputs = run(pet_series(), "RetainPatientCharacteristics", "RetainLongitudinalModifiedDates")
    for original, output in zip(originals, outputs, strict=True):
        assert output.SeriesDate != original.SeriesDate  # shifted...
        assert suv_body_weight_factor(output) == pytest.approx(suv_body_weight_factor(original), rel=1e-12)
        drug = output.RadiopharmaceuticalInformationSequence[0]
        assert drug.RadiopharmaceuticalStartTime == "103000" and drug.RadionuclideTotalDose == 370000000
    plain = run(pet_series())[0]
    assert "PatientWeight" not in plain
    assert "RadiopharmaceuticalStartTime" not in plain.RadiopharmaceuticalInformationSequence[0]


def test_retain_device_identity_keeps_the_device_and_cleans_ae_titles() -> None:
    without, with_option = (run([detailed_ct()], *names)[0] for names in ((), ("RetainDeviceIdentity",)))
    assert "StationName" not in without and "DeviceSerialNumber" not in without and "StationAETitle" not in without
    assert (with_option.StationName, with_option.DeviceSerialNumber) == ("PETCT01", "SN-4471")
    assert "PET" in with_option.StationAETitle and not identifying_words(with_option.StationAETitle)  # C: cleaned


def test_retain_institution_identity() -> None:
    without, with_option = (run([detailed_ct()], *names)[0] for names in ((), ("RetainInstitutionIdentity",)))
    assert "InstitutionName" not in without and "InstitutionAddress" not in without
    assert with_option.InstitutionName == "Saint Example Hospital"
    assert with_option.InstitutionAddress == "1 Example Street"
    assert with_option.InstitutionalDepartmentName == "Nuclear Medicine"


def test_full_dates_keeps_every_date_and_time() -> None:
    original = detailed_ct()
    output = run([detailed_ct()], "RetainLongitudinalFullDates")[0]
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "StudyTime", "SeriesTime"):
        assert output[keyword].value == original[keyword].value, keyword
    assert output.PatientBirthDate == ""  # not a longitudinal date: still Z
    assert output.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_modified_dates_shift_dates_and_keep_times() -> None:
    original = detailed_ct()
    output = run([detailed_ct()], "RetainLongitudinalModifiedDates")[0]
    assert output.StudyDate != original.StudyDate and output.StudyTime == original.StudyTime
    assert output.LongitudinalTemporalInformationModified == "MODIFIED"


def test_without_a_date_option_the_source_statement_on_dates_goes() -> None:
    source = detailed_ct()
    source.LongitudinalTemporalInformationModified = "UNMODIFIED"
    assert "LongitudinalTemporalInformationModified" not in run([source])[0]


def test_clean_descriptors_keeps_the_description_without_the_identifiers() -> None:
    output = run([detailed_ct()], "CleanDescriptors")[0]
    assert_cleaned(output.StudyDescription, "PET", "CT", "WB")
    assert output.SeriesDescription == "AX T1"  # the example: name, ID and date out, the rest kept
    assert_cleaned(output.ProtocolName, "WB")
    assert_cleaned(output.ImageComments, "seen", "by", "Dr")
    plain = run([detailed_ct()])[0]
    assert "SeriesDescription" not in plain and "ProtocolName" not in plain and "ImageComments" not in plain


def test_clean_descriptors_cleans_the_text_of_the_coded_sequences_it_marks_c() -> None:
    source = detailed_ct()
    request = Dataset()
    request.RequestedProcedureDescription = "CT for Doe Jane"
    request.ReasonForRequestedProcedureCodeSequence = Sequence([code("R2", "99LOCAL", "Jane Doe chest pain")])
    source.RequestAttributesSequence = Sequence([request])
    output = run([source], "CleanDescriptors")[0]
    visit = output.ReasonForVisitCodeSequence[0]
    assert (visit.CodeValue, visit.CodeMeaning) == ("ANONYMIZED", "follow-up")  # a code keeps a value
    assert output.AdmittingDiagnosesCodeSequence[0].CodeMeaning == "Fall at home, reported by"
    reason = output.RequestAttributesSequence[0].ReasonForRequestedProcedureCodeSequence[0]
    assert (reason.CodeValue, reason.CodeMeaning) == ("R2", "chest pain")
    assert "ReasonForVisitCodeSequence" not in run([detailed_ct()])[0]  # X without the option


def test_clean_structured_content_cleans_code_meanings() -> None:
    sr = with_identifying_details(read("test-SR.dcm"))
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "CODE"
    item.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
    item.ConceptCodeSequence = Sequence([code("L1", "99LOCAL", "Lesion seen on Jane Doe")])
    sr.ContentSequence.append(item)
    for names in (("CleanStructuredContent",), ("CleanStructuredContent", "CleanDescriptors")):
        output = run([sr], *names)[0].ContentSequence[-1]
        assert output.ConceptCodeSequence[0].CodeMeaning == "Lesion seen on"
        assert output.ConceptNameCodeSequence[0].CodeMeaning == "Finding"  # nothing to clean: unchanged


def test_clean_descriptors_keeps_roi_names() -> None:
    study = rt_study()
    rois = study[-3].StructureSetROISequence
    rois[0].ROIName = "PTV"
    rois[1].ROIName = f"GTV {str(study[-3].PatientName).replace('^', ' ')}"
    output = run(study, "CleanDescriptors")[-3]
    assert [roi.ROIName for roi in output.StructureSetROISequence] == ["PTV", "GTV", "Isocenter 2"]
    assert output.StructureSetLabel == study[-3].StructureSetLabel  # "sep30": nothing identifying
    assert [roi.ROIName for roi in run(rt_study())[-3].StructureSetROISequence] == ["", "", ""]  # Z without it


def test_with_full_dates_descriptors_keep_their_dates() -> None:
    study = rt_study()
    rois = study[-3].StructureSetROISequence
    rois[0].ROIName, rois[1].ROIName = "PTV_20230314", "GTV 10:15"
    output = run(study, "CleanDescriptors", "RetainLongitudinalFullDates")[-3]
    assert [roi.ROIName for roi in output.StructureSetROISequence][:2] == ["PTV_20230314", "GTV 10:15"]


def test_a_type_1_descriptor_cleaned_to_nothing_gets_a_dummy() -> None:
    study = rt_study()
    rtstruct = study[-3]
    rtstruct.StructureSetDescription = str(rtstruct.PatientName).split("^")[0]  # only the patient's name
    rtstruct.StructureSetLabel = rtstruct.StructureSetDescription + " %"  # and punctuation: nothing either
    output = run(study, "CleanDescriptors")[-3]
    assert output.StructureSetLabel == "ANONYMIZED"  # Type 1 in RTSTRUCT: never empty
    assert output.StructureSetDescription == ""  # Type 3: empty is valid


def with_graphic_annotation(ds: Dataset) -> Dataset:
    text = Dataset()
    text.UnformattedTextValue = "lesion 2 cm DOE JANE PID-778123"
    text.AnchorPointAnnotationUnits, text.AnchorPoint, text.AnchorPointVisibility = "PIXEL", [10.0, 12.0], "Y"
    line = Dataset()
    line.GraphicAnnotationUnits, line.GraphicDimensions, line.NumberOfGraphicPoints = "PIXEL", 2, 2
    line.GraphicData, line.GraphicType, line.GraphicFilled = [1.0, 1.0, 5.0, 5.0], "POLYLINE", "N"
    annotation = Dataset()
    annotation.GraphicLayer = "MEASURE"
    annotation.TextObjectSequence, annotation.GraphicObjectSequence = Sequence([text]), Sequence([line])
    ds.GraphicAnnotationSequence = Sequence([annotation])
    return ds


def test_clean_graphics_keeps_the_graphics_and_their_text_without_identifiers() -> None:
    source = with_graphic_annotation(detailed_ct())
    cleaned = run([source], "CleanGraphics")[0].GraphicAnnotationSequence[0]
    assert_cleaned(cleaned.TextObjectSequence[0].UnformattedTextValue, "lesion", "2", "cm")
    assert cleaned.GraphicObjectSequence[0].GraphicData == [1.0, 1.0, 5.0, 5.0]
    assert cleaned.TextObjectSequence[0].AnchorPoint == [10.0, 12.0]
    plain = run([with_graphic_annotation(detailed_ct())])[0].GraphicAnnotationSequence[0]
    assert plain.TextObjectSequence[0].UnformattedTextValue == "ANONYMIZED"  # D: the text replaced


def test_clean_structured_content_keeps_the_acquisition_context() -> None:
    ecg = read("waveform_ecg.dcm")
    item = Dataset()
    item.ValueType = "CODE"
    item.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
    item.ConceptCodeSequence = Sequence([code("F-000FA", "SRT", "Sinus rhythm")])
    ecg.AcquisitionContextSequence = Sequence([item])
    assert len(run([ecg])[0].AcquisitionContextSequence) == 0  # X/Z, Type 2: emptied
    kept = run([ecg], "CleanStructuredContent")[0].AcquisitionContextSequence
    assert kept[0].ConceptCodeSequence[0].CodeMeaning == "Sinus rhythm"


def test_every_applied_option_is_recorded() -> None:
    names = [o.name for o in PROFILE_OPTIONS if o.name != "RetainLongitudinalFullDates"]
    output = run([detailed_ct()], *names, Keep=["BodyPartExamined"], Remove=["Manufacturer"])[0]
    codes = [(c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning) for c in output.DeidentificationMethodCodeSequence]
    expected = [(o.code, "DCM", o.meaning) for o in PROFILE_OPTIONS if o.name in names]
    assert codes == [("113100", "DCM", "Basic Application Confidentiality Profile"), *expected]
    method = list(output.DeidentificationMethod)
    assert method[0] == "PS3.15 2026c Basic Application Confidentiality Profile"
    assert method[1].startswith("anon-consistent ")
    meanings = [o.meaning for o in PROFILE_OPTIONS if o.name in names]
    assert method[2:] == [*meanings, "Keep: BodyPartExamined", "Remove: Manufacturer"]
    assert all(len(value) <= 64 for value in method)
    assert output.PatientIdentityRemoved == "YES"


def test_the_options_record_survives_encoding_as_lo_values() -> None:
    output = OfflineEngine().run_bytes([encode(detailed_ct())], parse_options(b'{"Options": ["RetainUIDs"]}'))[0]
    assert b"PS3.15 2026c Basic Application Confidentiality Profile\\anon-consistent " in output
    assert PATIENT_ID.encode() not in output


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_kept_private_creators_are_recorded_in_the_default_repertoire_without_error(tmp_path: Path) -> None:
    # Written without SpecificCharacterSet: a Latin-1 "ü" would be an error, a cut creator a lie.
    source = read("MR_small.dcm")
    for block, creator in ((0x10, "Müller Bildgebung"), (0x11, "C" * 60 + "WXYZ")):
        source.add_new(0x00190000 | block, "LO", creator)
        source.add_new(0x00190000 | block << 8 | 0x0C, "IS", "1000")
        source.add_new(0x00190000 | block << 8 | 0x0D, "IS", "7")
    keep = [
        {"Creator": c, "Element": e}
        for c in ("Müller Bildgebung", "C" * 60 + "WXYZ")
        for e in ("0019,xx0C", "0019,xx0D")
    ]
    before = encode(source)
    after = OfflineEngine().run_bytes([before], parse_options(json.dumps({"Keep": keep})))[0]
    assert new_iod_errors(before, after, tmp_path) == set()
    method = list(pydicom.dcmread(BytesIO(after)).DeidentificationMethod)
    assert "Keep: M?ller Bildgebung (0019,xx0C)" in method and method.count("C" * 60 + "WXYZ") == 2
    assert b"M\xfcller Bildgebung (" not in after and b"M\xc3\xbcller Bildgebung (" not in after
