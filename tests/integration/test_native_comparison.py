"""Against Orthanc's own /studies/{id}/anonymize on the same study, in the same server.

For every attribute path, an original value that native anonymization got rid
of must be gone from our output too ("at least as protective"), and the
relations native breaks across objects are intact in ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from anon_consistent.uid_policy import is_registry_uid, keeps_uid_attribute
from tests.dicom_data import read, rt_study
from tests.integration.conftest import stored_bytes, stored_datasets
from tests.orthanc_server import OrthancServer

Upload = Callable[[list[Dataset]], str]
TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT", "UI"}


def with_identifying_details(datasets: list[Dataset]) -> list[Dataset]:
    for ds in datasets:
        ds.InstitutionName = "Saint Example Hospital"
        ds.InstitutionAddress = "1 Example Street, Exampleville"
        ds.ReferringPhysicianName = "Referrer^Rita"
        ds.OperatorsName = "Operator^Otto"
        ds.AccessionNumber = "ACC-778899"
        ds.StudyID = "SID-4455"
        ds.PatientBirthDate = "19610203"
        ds.OtherPatientIDs = "OTHER-123456"
        request = Dataset()
        request.RequestedProcedureID = "RP-99887"
        request.ScheduledProcedureStepID = "SPS-66554"
        ds.RequestAttributesSequence = Sequence([request])
    return datasets


def value_paths(dataset: Dataset, prefix: str = "") -> Iterator[tuple[str, str]]:
    for element in dataset:
        path = f"{prefix}{element.tag:08X}"
        if element.VR == "SQ":
            for item in element.value:
                yield from value_paths(item, path + "/")
        elif element.VR in TEXT_VRS and element.value not in (None, ""):
            yield path, str(element.value)


def all_pairs(datasets: list[Dataset]) -> set[tuple[str, str]]:
    return {pair for ds in datasets for pair in value_paths(ds)}


def test_at_least_as_protective_as_native_and_relations_intact(orthanc: OrthancServer, upload: Upload) -> None:
    originals = with_identifying_details(rt_study())
    study = upload(originals)
    native = orthanc.post(f"/studies/{study}/anonymize", {})
    assert native.status_code == 200, native.text
    ours = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "native-comparison"})
    assert ours.status_code == 200, ours.text

    native_out = stored_datasets(orthanc, "studies", native.json()["ID"])
    our_out = stored_datasets(orthanc, "studies", ours.json()["ID"])
    assert len(native_out) == len(our_out) == len(originals)

    original_pairs = all_pairs(originals)
    removed_by_native = original_pairs - all_pairs(native_out)
    kept_by_us = all_pairs(our_out)
    assert removed_by_native, "the comparison must exercise something"
    assert removed_by_native & kept_by_us == set()

    # Byte level: no original text value that native dropped appears in our files.
    native_blob = b"".join(stored_bytes(orthanc, "studies", native.json()["ID"]))
    our_blob = b"".join(stored_bytes(orthanc, "studies", ours.json()["ID"]))
    dropped_values = {v for _, v in original_pairs if len(v) >= 6 and v.encode() not in native_blob}
    assert dropped_values
    assert {v for v in dropped_values if v.encode() in our_blob} == set()

    # What native cannot promise across calls and nested copies, ours keeps.
    ours_by_modality = {d.Modality: d for d in our_out}
    cts = [d for d in our_out if d.Modality == "CT"]
    rtstruct = ours_by_modality["RTSTRUCT"]
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == cts[0].FrameOfReferenceUID
    assert ours_by_modality["RTDOSE"].FrameOfReferenceUID == cts[0].FrameOfReferenceUID


IDENTIFYING_VRS = TEXT_VRS - {"CS", "DS", "IS"}


def test_structured_report_text_is_gone_as_with_native(orthanc: OrthancServer, upload: Upload) -> None:
    """An SR's content tree: native empties it, ours keeps a skeleton.

    Compared here on the value types that can identify someone (names, free
    text, dates, codes' meanings, UIDs); enumerations (CS) such as ValueType and
    plain numbers are the skeleton the D action of PS3.15 keeps.
    """
    sr = read("test-SR.dcm")
    text = Dataset()
    text.ValueType, text.RelationshipType, text.TextValue = "TEXT", "CONTAINS", "Seen at Example Street by Dr Quux"
    sr.ContentSequence.append(text)
    originals = [sr]
    study = upload(originals)
    native = orthanc.post(f"/studies/{study}/anonymize", {}).json()
    ours = orthanc.post(f"/anon-consistent/studies/{study}", {"Project": "native-sr"}).json()
    native_out = stored_datasets(orthanc, "studies", native["ID"])
    our_out = stored_datasets(orthanc, "studies", ours["ID"])
    assert len(native_out[0].get("ContentSequence", [])) == 0 < len(our_out[0].ContentSequence)

    def identifying(datasets: list[Dataset]) -> set[tuple[str, str]]:
        return {
            (p, v)
            for ds in datasets
            for p, v, vr in typed_value_paths(ds)
            if vr in IDENTIFYING_VRS and not (vr == "UI" and names_a_class(int(p[-8:], 16), v))
        }

    removed_by_native = identifying(originals) - identifying(native_out)
    assert ("0040A730/0040A160", "Seen at Example Street by Dr Quux") in removed_by_native
    assert removed_by_native & identifying(our_out) == set()
    assert b"Example Street" not in b"".join(stored_bytes(orthanc, "studies", ours["ID"]))


def names_a_class(tag: int, value: str) -> bool:
    """SOP classes, coding schemes, registry values: they identify no one."""
    return keeps_uid_attribute(Tag(tag)) or is_registry_uid(value)


def typed_value_paths(dataset: Dataset, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    for element in dataset:
        path = f"{prefix}{element.tag:08X}"
        if element.VR == "SQ":
            for item in element.value:
                yield from typed_value_paths(item, path + "/")
        elif element.value not in (None, ""):
            yield path, str(element.value), element.VR
