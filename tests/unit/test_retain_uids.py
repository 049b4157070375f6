"""Retain UIDs: every UID kept, the project's mapping records identity, and a result never becomes its source."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pydicom
import pytest

from anon_consistent.options import parse_options
from anon_consistent.orthanc_ids import instance_id_of, orthanc_instance_id
from anon_consistent.profile import load_basic_profile
from anon_consistent.pseudonyms import RandomPatientKeys
from anon_consistent.rewriter import InstanceRewriteError
from anon_consistent.service import Anonymizer, Level, NothingAnonymized, StoredInstance
from anon_consistent.store import MappingStore
from anon_consistent.uids import RandomUidFactory
from tests.dicom_data import encoded, rt_study
from tests.engine import OfflineEngine
from tests.privacy import uid_values

RETAIN = parse_options(b'{"Options": ["RetainUIDs"]}')


def test_every_uid_is_kept_and_recorded_as_itself() -> None:
    originals = rt_study()
    engine = OfflineEngine()
    outputs = engine.run(encoded(originals), RETAIN)
    for original, output in zip(originals, outputs, strict=True):
        assert uid_values(output) == uid_values(original)
        assert output.PatientID != original.PatientID  # the pseudonym: another Orthanc ID
        assert [c.CodeValue for c in output.DeidentificationMethodCodeSequence] == ["113100", "113110"]
    rows = [row for row in engine.store.rows("default") if row.kind == "UID"]
    assert rows and all(row.original == row.anonymized for row in rows)
    assert {row.original for row in rows} >= set().union(*(uid_values(o) for o in originals))


def test_a_later_call_without_the_option_is_refused_rather_than_reusing_retained_uids() -> None:
    # Reusing the recorded identity would output original UIDs marked only
    # 113100 (Basic Profile), and a server without that record would disagree.
    originals = rt_study()
    engine = OfflineEngine()
    engine.run(encoded(originals[:1]), RETAIN)  # one CT instance, its UIDs retained
    with pytest.raises(InstanceRewriteError) as failure:
        engine.run(encoded(originals[:1]), parse_options(b""))
    message = str(failure.value)
    assert "project default retained the UIDs of this instance (RetainUIDs)" in message
    assert "repeat the call with RetainUIDs, or use another Project" in message
    assert not any(uid in message for uid in uid_values(originals[0]))
    # An instance of the same study shares its retained StudyInstanceUID: refused too.
    with pytest.raises(InstanceRewriteError):
        engine.run(encoded(originals[1:2]), parse_options(b""))
    again = engine.run(encoded(originals[:1]), RETAIN)  # with the option, as asked
    assert again[0].SOPInstanceUID == originals[0].SOPInstanceUID
    assert [c.CodeValue for c in again[0].DeidentificationMethodCodeSequence] == ["113100", "113110"]
    other = engine.run(encoded(originals[:1]), parse_options(b'{"Project": "other"}'))  # another project: new UIDs
    assert not uid_values(other[0]) & uid_values(originals[0])
    assert [c.CodeValue for c in other[0].DeidentificationMethodCodeSequence] == ["113100"]


def test_retaining_uids_the_project_already_replaced_fails_without_naming_them() -> None:
    originals = rt_study()
    engine = OfflineEngine()
    engine.run(encoded(originals[:1]), parse_options(b""))
    with pytest.raises(InstanceRewriteError) as failure:
        engine.run(encoded(originals[:1]), RETAIN)
    message = str(failure.value)
    assert "RetainUIDs" in message and "another Project" in message
    assert not any(uid in message for uid in uid_values(originals[0]))
    other = engine.run(encoded(originals[:1]), parse_options(b'{"Options": ["RetainUIDs"], "Project": "other"}'))
    assert other[0].SOPInstanceUID == originals[0].SOPInstanceUID


def test_the_orthanc_id_is_computed_as_orthanc_does() -> None:
    # Orthanc's DicomInstanceHasher: SHA-1 of the four values joined by "|", in five groups of 8.
    digest = hashlib.sha1(b"P|1.2|1.2.3|1.2.3.4").hexdigest()
    expected = "-".join(digest[i : i + 8] for i in range(0, 40, 8))
    assert orthanc_instance_id("P ", "1.2\x00", "1.2.3", "1.2.3.4") == expected
    ds = rt_study()[0]
    assert instance_id_of(encoded([ds])[0]) == orthanc_instance_id(
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
    )


class OverwritingOrthanc:
    """Keys instances by their Orthanc ID and, like "OverwriteInstances": true, replaces what is there."""

    def __init__(self, blobs: list[bytes]) -> None:
        self.files = {instance_id_of(blob): blob for blob in blobs}
        self.sources = dict(self.files)

    def instances_of(self, level: Level, resource_id: str) -> list[str]:
        return sorted(self.sources)

    def read_instance(self, instance_id: str) -> bytes:
        return self.files[instance_id]

    def store_instance(self, data: bytes) -> StoredInstance:
        key = instance_id_of(data)
        self.files[key] = data
        return StoredInstance(key, "Success", {"ParentStudy": "study", "ParentPatient": "patient"})

    def stored_md5(self, instance_id: str) -> str | None:
        return hashlib.md5(self.files[instance_id]).hexdigest()

    def delete_instance(self, instance_id: str) -> None:
        del self.files[instance_id]

    def metadata(self, level: Level, resource_id: str, index: int) -> str | None:
        return None

    def parent(self, level: Level, resource_id: str) -> str:
        return "parent"

    def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None:
        pass


def anonymizer(fake: OverwritingOrthanc) -> Anonymizer:
    return Anonymizer(
        fake, MappingStore.open(":memory:"), load_basic_profile(), RandomUidFactory(), RandomPatientKeys()
    )


def test_a_result_that_would_be_its_source_is_refused_before_it_is_stored() -> None:
    originals = rt_study()[:2]
    same_patient = originals[0].PatientID
    fake = OverwritingOrthanc(encoded(originals))
    before = dict(fake.files)
    body = b'{"Options": ["RetainUIDs"], "Replace": {"PatientID": "%s"}}' % same_patient.encode()
    with pytest.raises(NothingAnonymized) as failure:
        anonymizer(fake).run(Level.STUDY, list(fake.sources), parse_options(body))
    assert fake.files == before  # not one source overwritten
    failed = failure.value.result.failed
    assert len(failed) == 2 and all("would overwrite its source" in f["Error"] for f in failed)


def test_with_the_pseudonym_the_retained_instances_are_stored_beside_their_sources() -> None:
    originals = rt_study()[:2]
    fake = OverwritingOrthanc(encoded(originals))
    before = dict(fake.files)
    result = anonymizer(fake).run(Level.STUDY, list(fake.sources), RETAIN)
    assert result.done == 2 and not result.failed
    new = {k: v for k, v in fake.files.items() if k not in before}
    assert len(new) == 2 and all(fake.files[k] == v for k, v in before.items())
    stored = [pydicom.dcmread(BytesIO(blob)) for blob in new.values()]
    assert {s.SOPInstanceUID for s in stored} == {o.SOPInstanceUID for o in originals}
