"""One call's view of a project's mapping.

Store lookups are cached for the call, and values pinned by ``Keep`` or
``Replace`` of a UI attribute override the store for this call only, so a
later call without those options gets the project's stable mapping back.
"""

from __future__ import annotations

from .mapping_store import MappingStore
from .pseudonyms import PatientKeyFactory
from .uids import UidFactory

UID_KIND = "UID"
PATIENT_KIND = "PatientID"
DATE_OFFSET_KIND = "DateOffset"


class PinConflictError(ValueError):
    """Keep/Replace would give one original UID two different new values."""


class MappingSession:
    def __init__(
        self,
        store: MappingStore,
        project: str,
        uid_factory: UidFactory,
        patient_keys: PatientKeyFactory,
    ) -> None:
        self.project = project
        self._store = store
        self._uid_factory = uid_factory
        self._patient_keys = patient_keys
        self._uids: dict[str, str] = {}
        self._pinned: dict[str, str] = {}
        self._pseudonyms: dict[str, str] = {}
        self._offsets: dict[str, int] = {}

    def pin(self, original: str, new: str) -> None:
        """Force ``original`` to become ``new`` everywhere in this call."""
        previous = self._pinned.setdefault(original, new)
        if previous != new:
            raise PinConflictError(f"UID {original} would be replaced by both {previous} and {new}")

    def pinned(self, original: str) -> str | None:
        """The value Keep/Replace forces for ``original`` in this call, if any."""
        return self._pinned.get(original)

    def uid(self, original: str) -> str:
        """The new UID for ``original``: pinned, else the project's stable one."""
        pinned = self._pinned.get(original)
        if pinned is not None:
            return pinned
        new = self._uids.get(original)
        if new is None:
            new = self._store.get_or_create(
                self.project, UID_KIND, original, lambda: self._uid_factory(self.project, original)
            )
            self._uids[original] = new
        return new

    def pseudonym(self, patient_id: str) -> str:
        """PatientID and PatientName of an original PatientID, stable per project."""
        found = self._pseudonyms.get(patient_id)
        if found is None:
            keys, project = self._patient_keys, self.project
            found = self._store.get_or_create(
                project, PATIENT_KIND, patient_id, lambda: keys.pseudonym(project, patient_id)
            )
            self._pseudonyms[patient_id] = found
        return found

    def date_offset_days(self, patient_id: str) -> int:
        """Days to add to this patient's dates, stable per project (created on first use)."""
        found = self._offsets.get(patient_id)
        if found is None:
            keys, project = self._patient_keys, self.project
            stored = self._store.get_or_create(
                project, DATE_OFFSET_KIND, patient_id, lambda: str(keys.date_offset(project, patient_id))
            )
            found = self._offsets[patient_id] = int(stored)
        return found
