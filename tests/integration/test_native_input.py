"""Non-conformant but real input, as native /anonymize takes it (issue 10, item 5).

Orthanc stores files that are not quite Part 10: /tools/create-dicom makes
instances without SOPClassUID, senders and old archives send bare datasets
without file meta, in any of the uncompressed encodings. Each is anonymized and
stored as native does it. A stored file that cannot be parsed at all fails
alone, with its reason, and the rest of the call goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import UID

from anon_consistent.integrity import NOT_DICOM
from tests.dicom_data import TEST_FILES, ct_study, encode, encode_without_meta, read, reidentified
from tests.orthanc_server import OrthancServer

GENERIC_CLASS = "1.2.276.0.7230010.3.1.0.1"  # what Orthanc writes for a dataset without SOPClassUID
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT_LITTLE, EXPLICIT_LITTLE, EXPLICIT_BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    # Raw files on disk and no storage cache, so a stored file can be spoiled behind Orthanc's back.
    server = OrthancServer(tmp_path_factory.mktemp("native-input"), StorageCompression=False, MaximumStorageCacheSize=0)
    with server:
        yield server


def anonymize(orthanc: OrthancServer, level: str, resource: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = orthanc.post(f"/anon-consistent/{level}/{resource}", {"Project": "native-input", **(body or {})})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["FailedInstances"] == []
    return answer


def stored(orthanc: OrthancServer, instance_id: str) -> tuple[bytes, Dataset]:
    data = orthanc.instance_bytes(instance_id)
    return data, pydicom.dcmread(BytesIO(data))  # no force: a Part 10 file


def test_a_created_instance_without_sop_class_with_a_nested_item_is_anonymized(orthanc: OrthancServer) -> None:
    item = {
        "0009,1002": "ABCD",  # private, in no dictionary
        "0009,1001": "-1234",  # private
        "0016,0071": "-12",  # GPSLatitude: removed
        "0034,0005": "13",  # SourceIdentifier (OB): Z in the 2026c table
        "StudyDescription": "Hello",
        "StudyDate": "20210705",
        "ReferencedStudySequence": [{"PatientID": "HELLO"}],
        "CodeMeaning": "MEANING1",
        "EquivalentCodeSequence": [{"CodeMeaning": "MEANING2"}],
    }
    tags = {"MappingResourceIdentificationSequence": [item], "PatientName": "Nested^Created"}
    created = orthanc.post("/tools/create-dicom", {"Tags": tags, "PrivateCreator": "Lunit"})
    assert created.status_code == 200, created.text
    source = created.json()
    assert "SOPClassUID" not in stored(orthanc, source["ID"])[1]

    answer = anonymize(orthanc, "studies", source["ParentStudy"])

    assert answer["InstancesCount"] == 1
    new_ids = orthanc.study_instances(answer["ID"])
    assert len(new_ids) == 1
    _, result = stored(orthanc, new_ids[0])
    assert result.file_meta.MediaStorageSOPClassUID == GENERIC_CLASS
    assert "SOPClassUID" not in result  # native adds none either
    assert result.PatientName != "Nested^Created"
    (new_item,) = result.MappingResourceIdentificationSequence
    assert new_item.StudyDate == ""
    assert new_item.CodeMeaning == "MEANING1"
    assert new_item.EquivalentCodeSequence[0].CodeMeaning == "MEANING2"
    # Native keeps exactly these three. Difference (design §5, the 2026c table):
    # SourceIdentifier is D there, so a dummy replaces the value native removes.
    assert {element.keyword for element in new_item} == {
        "StudyDate",
        "CodeMeaning",
        "EquivalentCodeSequence",
        "SourceIdentifier",
    }
    assert new_item.SourceIdentifier == b"\x00\x00"


@pytest.mark.parametrize(
    ("implicit_vr", "little_endian", "syntax"),
    [(True, True, IMPLICIT_LITTLE), (False, True, EXPLICIT_LITTLE), (False, False, EXPLICIT_BIG)],
)
@pytest.mark.parametrize("has_class", [True, False])
def test_an_upload_without_file_meta_is_anonymized_into_a_part_10_file(
    orthanc: OrthancServer, implicit_vr: bool, little_endian: bool, syntax: str, has_class: bool
) -> None:
    original = reidentified([ct_study()[0]])[0]
    if not has_class:
        del original.SOPClassUID
    data = encode_without_meta(original, implicit_vr=implicit_vr, little_endian=little_endian)
    source = orthanc.upload(data)
    assert orthanc.instance_bytes(source["ID"]) == data  # Orthanc keeps the bare dataset as sent

    answer = anonymize(orthanc, "series", source["ParentSeries"])

    (new_id,) = [i["ID"] for i in orthanc.json(f"/series/{answer['ID']}/instances")]
    data, result = stored(orthanc, new_id)
    assert data[128:132] == b"DICM"
    assert result.file_meta.TransferSyntaxUID == syntax
    assert result.file_meta.MediaStorageSOPClassUID == (CT_IMAGE_STORAGE if has_class else GENERIC_CLASS)
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID != original.SOPInstanceUID
    assert result.PatientID != original.PatientID
    assert result.PixelData == original.PixelData


def _no_patient_id(ds: Dataset) -> bytes:
    del ds.PatientID
    return encode(ds)


def _empty_patient_id(ds: Dataset) -> bytes:
    ds.PatientID = ""
    return encode(ds)


def _no_dates(ds: Dataset) -> bytes:
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "StudyTime"):
        if keyword in ds:
            del ds[keyword]
    return encode(ds)


def _encoded_as(syntax: str) -> Callable[[Dataset], bytes]:
    def encoder(ds: Dataset) -> bytes:
        ds.file_meta.TransferSyntaxUID = UID(syntax)
        buffer = BytesIO()
        pydicom.dcmwrite(
            buffer,
            ds,
            implicit_vr=syntax == IMPLICIT_LITTLE,
            little_endian=syntax != EXPLICIT_BIG,
            enforce_file_format=True,
        )
        return buffer.getvalue()

    return encoder


@pytest.mark.parametrize(
    "spoil",
    [
        _no_patient_id,
        _empty_patient_id,
        _no_dates,
        _encoded_as(IMPLICIT_LITTLE),
        _encoded_as(EXPLICIT_BIG),
        _encoded_as(DEFLATED),
    ],
    ids=["no-PatientID", "empty-PatientID", "no-dates", "implicit", "big-endian", "deflated"],
)
def test_odd_but_parseable_files_do_not_fail(orthanc: OrthancServer, spoil: Callable[[Dataset], bytes]) -> None:
    original = reidentified([ct_study()[0]])[0]
    source = orthanc.upload(spoil(original))

    answer = anonymize(orthanc, "instances", source["ID"])

    _, source_dataset = stored(orthanc, source["ID"])
    _, result = stored(orthanc, answer["ID"])
    assert result.file_meta.TransferSyntaxUID == source_dataset.file_meta.TransferSyntaxUID
    assert result.SOPInstanceUID != original.SOPInstanceUID
    assert str(result.PatientID).startswith("ANON-")
    assert result.PixelData == original.PixelData


@pytest.mark.parametrize(
    "name",
    [
        "ExplVR_BigEndNoMeta.dcm",
        "ExplVR_LitEndNoMeta.dcm",
        "image_dfl.dcm",  # deflated
        "MR_small_bigendian.dcm",
        "badVR.dcm",
        "reportsi_with_empty_number_tags.dcm",
    ],
)
def test_odd_files_from_other_writers_do_not_fail(orthanc: OrthancServer, name: str) -> None:
    source = orthanc.upload((TEST_FILES / name).read_bytes())  # as written, not re-encoded by pydicom

    answer = anonymize(orthanc, "instances", source["ID"])

    _, result = stored(orthanc, answer["ID"])
    assert result.SOPInstanceUID != read(name).SOPInstanceUID


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID"])
def test_orthanc_itself_refuses_files_without_study_or_series_uid(orthanc: OrthancServer, keyword: str) -> None:
    # Why the engine needs no fallback for these: they never reach it.
    original = reidentified([ct_study()[0]])[0]
    del original[keyword]
    assert orthanc.post("/instances", encode(original)).status_code == 404


def test_an_unparseable_stored_instance_is_one_failure_and_the_series_goes_on(orthanc: OrthancServer) -> None:
    study = reidentified(ct_study())
    originals = [d for d in study if d.SeriesInstanceUID == study[-1].SeriesInstanceUID]  # the 5-image series
    answers = orthanc.upload_all([encode(d) for d in originals])
    series = answers[0]["ParentSeries"]
    assert len(answers) > 2 and {a["ParentSeries"] for a in answers} == {series}
    spoiled = answers[1]["ID"]
    uuid = orthanc.json(f"/instances/{spoiled}/attachments/dicom/info")["Uuid"]
    (orthanc.workdir / "storage" / uuid[:2] / uuid[2:4] / uuid).write_bytes(b"\x17" * 2000)  # a failing disk

    response = orthanc.post(f"/anon-consistent/series/{series}", {"Project": "native-input"})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["FailedInstancesCount"] == 1
    assert answer["FailedInstances"] == [{"ID": spoiled, "Error": NOT_DICOM}]
    assert answer["InstancesCount"] == len(answers) - 1
    assert len(orthanc.json(f"/series/{answer['ID']}/instances")) == len(answers) - 1
