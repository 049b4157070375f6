"""The call orchestration with a fake Orthanc: failures, re-runs, source deletion."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pydicom
import pytest

from anon_consistent.mapping_store import MappingStore
from anon_consistent.options import parse_options
from anon_consistent.profile import load_basic_profile
from anon_consistent.pseudonyms import RandomPatientKeys
from anon_consistent.service import Anonymizer, Level, NothingAnonymized, ResourceNotFound, StoredInstance
from anon_consistent.uids import RandomUidFactory
from tests.dicom_data import ct_study, encoded


class FakeOrthanc:
    """Stores instances by SOPInstanceUID and, like Orthanc, keeps the first copy."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.files = dict(blobs)
        self.deleted: list[str] = []

    def instances_of(self, level: Level, resource_id: str) -> list[str]:
        if resource_id != "study":
            raise ResourceNotFound(resource_id)
        return sorted(k for k in self.files if k.startswith("src"))

    def read_instance(self, instance_id: str) -> bytes:
        return self.files[instance_id]

    def store_instance(self, data: bytes) -> StoredInstance:
        ds = pydicom.dcmread(BytesIO(data))
        key = "new-" + ds.SOPInstanceUID
        status = "AlreadyStored" if key in self.files else "Success"
        if status == "Success":
            self.files[key] = data
        return StoredInstance(key, status, {"ParentStudy": "s-" + ds.StudyInstanceUID, "ParentPatient": "p"})

    def stored_md5(self, instance_id: str) -> str | None:
        return hashlib.md5(self.files[instance_id]).hexdigest() if instance_id in self.files else None

    def delete_instance(self, instance_id: str) -> None:
        self.deleted.append(instance_id)
        self.files.pop(instance_id, None)


def make(fake: FakeOrthanc) -> Anonymizer:
    return Anonymizer(fake, MappingStore(":memory:"), load_basic_profile(), RandomUidFactory(), RandomPatientKeys())


def sources() -> dict[str, bytes]:
    return {f"src-{n}": blob for n, blob in enumerate(encoded(ct_study()))}


def test_failed_instance_is_reported_and_the_rest_stored() -> None:
    files = sources()
    files["src-9-broken"] = b"garbage"
    fake = FakeOrthanc(files)
    anonymizer = make(fake)
    result = anonymizer.run(Level.STUDY, anonymizer.list_instances(Level.STUDY, "study"), parse_options(b""))
    answer = result.as_json("default")
    assert answer["InstancesCount"] == 7 and answer["FailedInstancesCount"] == 1
    assert answer["FailedInstances"][0]["ID"] == "src-9-broken"  # type: ignore[index]
    assert answer["Type"] == "Study" and str(answer["Path"]).startswith("/studies/s-2.25.")


def test_every_instance_failing_raises() -> None:
    fake = FakeOrthanc({"src-1": b"x", "src-2": b"y"})
    anonymizer = make(fake)
    with pytest.raises(NothingAnonymized) as failure:
        anonymizer.run(Level.STUDY, ["src-1", "src-2"], parse_options(b""))
    assert failure.value.result.as_json("p")["FailedInstancesCount"] == 2


def test_rerun_with_other_options_replaces_the_stored_copy() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    anonymizer.run(Level.STUDY, ids, parse_options(b""))
    first = {k: v for k, v in fake.files.items() if k.startswith("new-")}
    anonymizer.run(Level.STUDY, ids, parse_options(b'{"Keep": ["StudyDescription"]}'))
    second = {k: v for k, v in fake.files.items() if k.startswith("new-")}
    assert first.keys() == second.keys()  # same UIDs
    assert all(first[k] != second[k] for k in first)  # but the latest content
    assert sorted(fake.deleted) == sorted(first)


def test_identical_rerun_replaces_nothing() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    first = anonymizer.run(Level.STUDY, ids, parse_options(b"")).as_json("default")
    second = anonymizer.run(Level.STUDY, ids, parse_options(b"")).as_json("default")
    assert second == first and fake.deleted == []


def test_keep_source_false_deletes_only_the_sources() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    result = anonymizer.run(Level.STUDY, ids, parse_options(b'{"KeepSource": false}'))
    assert result.source_deleted and sorted(fake.deleted) == ids
    assert len([k for k in fake.files if k.startswith("new-")]) == 7


def test_cancellation_stops_between_instances() -> None:
    from anon_consistent.service import Cancelled

    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    with pytest.raises(Cancelled):
        anonymizer.run(
            Level.STUDY,
            anonymizer.list_instances(Level.STUDY, "study"),
            parse_options(b""),
            lambda done, total: done < 3,
        )
    assert len([k for k in fake.files if k.startswith("new-")]) == 3


def test_pinning_pass_reports_progress_and_can_be_cancelled() -> None:
    from anon_consistent.service import Cancelled

    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    keep = parse_options(b'{"Keep": ["FrameOfReferenceUID"]}')
    seen: list[tuple[int, int]] = []

    def record(done: int, total: int) -> bool:
        seen.append((done, total))
        return True

    anonymizer.run(Level.STUDY, ids, keep, record)
    fractions = [done / total for done, total in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(0 < f < 0.5 for f in fractions)  # the reading pass moves the progress too
    with pytest.raises(Cancelled):
        anonymizer.run(Level.STUDY, ids, keep, lambda done, total: done < 2)
