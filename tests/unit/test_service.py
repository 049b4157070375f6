"""The call orchestration with a fake Orthanc: failures, re-runs, source deletion."""

from __future__ import annotations

import hashlib
import json
from io import BytesIO

import pydicom
import pytest

from anon_consistent.options import parse_options
from anon_consistent.profile import load_basic_profile
from anon_consistent.pseudonyms import RandomPatientKeys
from anon_consistent.service import Anonymizer, Level, NothingAnonymized, ResourceNotFound, StoredInstance
from anon_consistent.store import MappingStore
from anon_consistent.uids import RandomUidFactory
from tests.dicom_data import ct_study, encoded


class FakeOrthanc:
    """Stores instances by SOPInstanceUID and, like Orthanc, keeps the first copy."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.files = dict(blobs)
        self.deleted: list[str] = []
        self.metadata_values: dict[tuple[str, str, int], str] = {}
        self.metadata_writes: list[tuple[str, str, int, str]] = []
        self.parent_calls = 0

    def metadata(self, level: Level, resource_id: str, index: int) -> str | None:
        return self.metadata_values.get((level.plural, resource_id, index))

    def parent(self, level: Level, resource_id: str) -> str:
        self.parent_calls += 1
        if resource_id not in self.files and level is Level.INSTANCE:
            raise ResourceNotFound(resource_id)
        return {Level.INSTANCE: "src-series", Level.SERIES: "src-study", Level.STUDY: "src-patient"}[level]

    def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None:
        self.metadata_writes.append((level.plural, resource_id, index, value))
        self.metadata_values[(level.plural, resource_id, index)] = value

    def instances_of(self, level: Level, resource_id: str) -> list[str]:
        if resource_id not in ("study", "src-series"):
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
        parents = {"ParentSeries": "se-" + ds.SeriesInstanceUID, "ParentStudy": "s-" + ds.StudyInstanceUID}
        return StoredInstance(key, status, {**parents, "ParentPatient": "p"})

    def stored_md5(self, instance_id: str) -> str | None:
        return hashlib.md5(self.files[instance_id]).hexdigest() if instance_id in self.files else None

    def delete_instance(self, instance_id: str) -> None:
        self.deleted.append(instance_id)
        self.files.pop(instance_id, None)


def make(fake: FakeOrthanc) -> Anonymizer:
    return Anonymizer(
        fake, MappingStore.open(":memory:"), load_basic_profile(), RandomUidFactory(), RandomPatientKeys()
    )


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


def test_failure_reasons_and_log_lines_carry_no_original_value(caplog: pytest.LogCaptureFixture) -> None:
    """Damaged, unreadable and conflicting instances: reasons name attributes, never values."""
    from anon_consistent.service import NothingAnonymized
    from tests.dicom_data import mr_patient

    files = sources()
    damaged_id = sorted(files)[0]
    files[damaged_id] = files[damaged_id][:-60]

    class Unreadable(FakeOrthanc):
        def read_instance(self, instance_id: str) -> bytes:
            if instance_id == "src-1":
                raise ValueError("Invalid value for VR UI: '1.2.840.113619.2.55.3.0604688119.01' on 20010203")
            return super().read_instance(instance_id)

    originals = ct_study()
    needles = {str(d.SOPInstanceUID) for d in originals} | {str(d.StudyInstanceUID) for d in originals}
    needles |= {"1.2.840.113619.2.55.3.0604688119.01", "20010203"}
    fake = Unreadable(files)
    anonymizer = make(fake)
    with caplog.at_level("ERROR", logger="anon_consistent"):
        answer = anonymizer.run(Level.STUDY, anonymizer.list_instances(Level.STUDY, "study"), parse_options(b""))
    reasons = {failure["ID"]: failure["Error"] for failure in answer.failed}
    assert reasons[damaged_id] == "PixelData (7FE0,0010) declares 512 bytes, 452 present"
    assert reasons["src-1"] == "ValueError: Invalid value for VR UI: '…' on …"

    # The MR files use their StudyInstanceUID as FrameOfReferenceUID: keeping
    # one and replacing the other asks one UID to become two.
    mr = mr_patient()
    needles |= {str(d.StudyInstanceUID) for d in mr}
    conflict = make(FakeOrthanc({f"src-{n}": blob for n, blob in enumerate(encoded(mr[:1]))}))
    keep_and_replace = {"Keep": ["StudyInstanceUID"], "Replace": {"FrameOfReferenceUID": "1.2.3.4"}, "Force": True}
    options = parse_options(json.dumps(keep_and_replace).encode())
    with caplog.at_level("ERROR", logger="anon_consistent"), pytest.raises(NothingAnonymized) as nothing:
        conflict.run(Level.STUDY, ["src-0"], options)
    reason = nothing.value.result.failed[0]["Error"]
    assert reason.endswith("Keep/Replace would give one original UID two different new values")
    assert reason.startswith(("StudyInstanceUID (0020,000D)", "FrameOfReferenceUID (0020,0052)"))

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "declares 512 bytes" in logged and "two different new values" in logged
    texts = [logged, *reasons.values(), reason]
    assert [needle for needle in needles if any(needle in text for text in texts)] == []


def provenance_anonymizer(fake: FakeOrthanc) -> Anonymizer:
    return Anonymizer(
        fake,
        MappingStore.open(":memory:"),
        load_basic_profile(),
        RandomUidFactory(),
        RandomPatientKeys(),
        provenance_metadata=4201,
    )


def test_each_instance_and_each_new_parent_is_linked_to_its_source() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = provenance_anonymizer(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    result = anonymizer.run(Level.STUDY, ids, parse_options(b""))
    instance_links = {rid: value for level, rid, _, value in fake.metadata_writes if level == "instances"}
    assert len(instance_links) == 7 and set(instance_links.values()) == set(ids)
    for produced in result.produced:  # each stored file points at the file it was made from
        assert instance_links[produced.new.instance] == produced.source.instance
    # One study and one patient: each written once per call, with the source's Orthanc ID.
    # Parents as Orthanc names them (asked, not recomputed).
    parents = [(level, value) for level, _, _, value in fake.metadata_writes if level != "instances"]
    assert sorted(parents) == [("patients", "src-patient"), *[("series", "src-series")] * 2, ("studies", "src-study")]
    assert result.as_json("default")["AnonymizedFrom"] == "src-study"


def test_an_identical_rerun_writes_no_link_again() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = provenance_anonymizer(fake)
    ids = anonymizer.list_instances(Level.STUDY, "study")
    anonymizer.run(Level.STUDY, ids, parse_options(b""))
    written = len(fake.metadata_writes)
    anonymizer.run(Level.STUDY, ids, parse_options(b""))
    assert len(fake.metadata_writes) == written  # "CheckRevisions" would refuse a second write


def test_a_link_that_cannot_be_written_fails_the_instance() -> None:
    class Refusing(FakeOrthanc):
        def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None:
            raise OSError("refused")

    fake = Refusing(sources())
    anonymizer = provenance_anonymizer(fake)
    with pytest.raises(NothingAnonymized) as failure:
        anonymizer.run(Level.STUDY, anonymizer.list_instances(Level.STUDY, "study"), parse_options(b""))
    assert all("link to the source" in f["Error"] for f in failure.value.result.failed)


def test_the_file_answer_stores_nothing_but_records_the_mapping() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = make(fake)
    before = dict(fake.files)
    data = anonymizer.anonymize_to_file("src-0", parse_options(b""))
    assert fake.files == before and fake.metadata_writes == []
    answered = pydicom.dcmread(BytesIO(data))
    assert answered.SOPInstanceUID != pydicom.dcmread(BytesIO(before["src-0"])).SOPInstanceUID
    # A later stored call in the project gives the file's UIDs.
    anonymizer.run(Level.INSTANCE, ["src-0"], parse_options(b""))
    assert "new-" + answered.SOPInstanceUID in fake.files


def test_a_resource_that_kept_its_identifiers_gets_no_link_to_itself() -> None:
    class KeepsPatient(FakeOrthanc):
        def store_instance(self, data: bytes) -> StoredInstance:
            stored = super().store_instance(data)
            return StoredInstance(stored.id, stored.status, {**stored.parents, "ParentPatient": "src-patient"})

    fake = KeepsPatient(sources())
    anonymizer = provenance_anonymizer(fake)
    anonymizer.run(Level.STUDY, anonymizer.list_instances(Level.STUDY, "study"), parse_options(b""))
    assert [w for w in fake.metadata_writes if w[0] == "patients"] == []  # the source patient is not marked
    assert len([w for w in fake.metadata_writes if w[0] == "studies"]) == 1


def test_source_parents_are_asked_once_per_series_not_per_instance() -> None:
    fake = FakeOrthanc(sources())
    anonymizer = provenance_anonymizer(fake)
    result = anonymizer.run(Level.STUDY, anonymizer.list_instances(Level.STUDY, "study"), parse_options(b""))
    assert result.done == 7 and fake.parent_calls == 3  # the first instance's series, its study, its patient
    assert {p.source.series for p in result.produced} == {"src-series"}
