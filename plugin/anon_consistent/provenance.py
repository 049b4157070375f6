"""The link from each anonymized resource to its source, kept as Orthanc metadata.

Native anonymization records it as the system metadata ``AnonymizedFrom``,
which Orthanc lets no plugin write (its REST API answers 403 for metadata
below 1024, and the plugin SDK has no setter). The link is therefore a user
metadata (1024-65535), which the shipped orthanc.json names
``AnonConsistentFrom``. It holds the source's Orthanc ID at the same level,
as ``AnonymizedFrom`` does: IDs of this Orthanc, never DICOM values.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

from .orthanc_ids import orthanc_ids
from .results import BOTTOM_UP, Level, OrthancIds, Produced
from .session import PATIENT_KIND, UID_KIND
from .store import MappingStore

log = logging.getLogger(__name__)

DEFAULT_METADATA = 4201
METADATA_NAME = "AnonConsistentFrom"
FIRST_USER_METADATA = 1024
LAST_METADATA = 65535


class MetadataGateway(Protocol):
    def parent(self, level: Level, resource_id: str) -> str:
        """The Orthanc ID of a resource's parent (ResourceNotFound if the resource is gone)."""

    def metadata(self, level: Level, resource_id: str, index: int) -> str | None:
        """The metadata's value, None if the resource has none."""

    def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None: ...


class ParentGateway(Protocol):
    def parent(self, level: Level, resource_id: str) -> str: ...

    def instances_of(self, level: Level, resource_id: str) -> list[str]: ...


class SourceParents:
    """The Orthanc IDs of a source instance's parents, asked from Orthanc once per series.

    Asked, not computed: Orthanc's IDs hash the values as it decoded and
    trimmed them, which a recomputation gets wrong for some real values (a
    leading space, several values, bytes invalid in their character set),
    and would then name another patient.
    """

    def __init__(self, gateway: ParentGateway) -> None:
        self._gateway = gateway
        self._series: dict[str, tuple[str, str]] = {}  # series -> (study, patient)
        # Filled a series at a time: one listing instead of one request per instance.
        self._series_of: dict[str, str] = {}

    def ids_of(self, instance_id: str) -> OrthancIds:
        series = self._series_of.get(instance_id)
        if series is None:
            series = self._gateway.parent(Level.INSTANCE, instance_id)
            self._series_of.update(dict.fromkeys(self._gateway.instances_of(Level.SERIES, series), series))
        if series not in self._series:
            study = self._gateway.parent(Level.SERIES, series)
            self._series[series] = (study, self._gateway.parent(Level.STUDY, study))
        study, patient = self._series[series]
        return OrthancIds(patient, study, series, instance_id)


class ProvenanceError(RuntimeError):
    """The instance was stored but its link to the source could not be written."""


class ProvenanceRecorder:
    """Writes the links of one call on a thread of its own.

    Why a thread: a write is a short round trip to Orthanc, but the thread
    that waits for it must then win the GIL back from the rewriting thread,
    which costs about a millisecond per instance when it is the storing
    thread. Here it overlaps with the next stores instead (measured in the
    README, "Provenance").

    Every stored instance gets its link; a new series, study or patient gets
    it once per call. An equal value already there is not written again, so a
    re-run works with "CheckRevisions" (which refuses to overwrite a
    metadata without its revision).
    """

    def __init__(self, gateway: MetadataGateway, index: int) -> None:
        self._gateway = gateway
        self._index = index
        self._linked: set[tuple[Level, str]] = set()
        self._pending: queue.Queue[tuple[Produced, bool] | None] = queue.Queue()
        self._failed: dict[str, str] = {}
        self._thread = threading.Thread(target=self._write_all, name="anon-consistent-links", daemon=True)
        self._thread.start()

    def record(self, produced: Produced, fresh: bool) -> None:
        """Queue the links of one stored instance; ``fresh``: just stored, so it has no metadata yet."""
        self._pending.put((produced, fresh))

    def finish(self) -> dict[str, str]:
        """Wait for every queued link; the new instances whose link failed, with the reason."""
        self._pending.put(None)
        self._thread.join()
        return self._failed

    def _write_all(self) -> None:
        while (entry := self._pending.get()) is not None:
            produced, fresh = entry
            try:
                self._write(produced, fresh)
            except ProvenanceError as error:
                self._failed[produced.new.instance] = str(error)

    def _write(self, produced: Produced, fresh: bool) -> None:
        for level in BOTTOM_UP:
            new = produced.new.at(level)
            if not new or (level, new) in self._linked:
                continue
            source = produced.source.at(level)
            if new == source:
                continue  # kept identifiers: the source itself, which native does not mark either
            try:
                if (level is Level.INSTANCE and fresh) or self._gateway.metadata(level, new, self._index) != source:
                    self._gateway.set_metadata(level, new, self._index, source)
            except Exception as error:  # any transport error
                if level is Level.INSTANCE:
                    raise ProvenanceError(
                        f"stored as {new}, but its link to the source could not be written ({type(error).__name__})"
                    ) from error
                # The instances keep their links; the parent's is missing until a re-run.
                log.warning(
                    "anon-consistent: the link of %s %s to its source could not be written (%s)",
                    level.label.lower(),
                    new,
                    type(error).__name__,
                )
            self._linked.add((level, new))


# How many identity values (PatientID, then the UIDs) name a resource at each level.
_DEPTH = {Level.PATIENT: 1, Level.STUDY: 2, Level.SERIES: 3, Level.INSTANCE: 4}


def anonymized_id(store: MappingStore, project: str, identity: tuple[str, str, str, str], level: Level) -> str | None:
    """The Orthanc ID the source with ``identity`` has after anonymization in ``project``, from the mapping.

    None when the project has no value for one of its identifiers: never
    anonymized there, or its PatientID or UIDs were kept or replaced by the
    caller (such values are not in the mapping).
    """
    depth = _DEPTH[level]
    patient = store.find(project, PATIENT_KIND, identity[0])
    uids = [store.find(project, UID_KIND, uid) for uid in identity[1:depth]]
    if patient is None or any(uid is None for uid in uids):
        return None
    values = [patient, *(uid or "" for uid in uids)] + [""] * (4 - depth)
    return orthanc_ids(*values).at(level)
