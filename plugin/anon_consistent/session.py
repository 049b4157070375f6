"""One call's view of a project's mapping.

Store lookups are cached for the call, and values pinned by ``Keep`` or
``Replace`` of a UI attribute override the store for this call only, so a
later call without those options gets the project's stable mapping back.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import InstanceRewriteError
from .pseudonyms import PatientKeyFactory
from .store import MappingStore
from .uids import UidFactory

UID_KIND = "UID"
PATIENT_KIND = "PatientID"
DATE_OFFSET_KIND = "DateOffset"


class PinConflictError(ValueError):
    """Keep/Replace would give one original UID two different new values."""


class RetainedUidConflict(InstanceRewriteError):
    """A project mixes RetainUIDs and new UIDs for one UID (either way round)."""


class MappingSession:
    def __init__(
        self,
        store: MappingStore,
        project: str,
        uid_factory: UidFactory,
        patient_keys: PatientKeyFactory,
        retain_uids: bool = False,
    ) -> None:
        self.project = project
        # Retain UIDs: every UID maps to itself, and the project records it,
        # so that a later call without the option refuses that UID instead of
        # inventing a second value (or quietly outputting the original).
        self.retain_uids = retain_uids
        self._store = store
        self._uid_factory = uid_factory
        self._patient_keys = patient_keys
        self._known: dict[tuple[str, str], str] = {}  # (kind, original) -> stored value
        self._pinned: dict[str, str] = {}

    def pin(self, original: str, new: str) -> None:
        """Force ``original`` to become ``new`` everywhere in this call."""
        previous = self._pinned.setdefault(original, new)
        if previous != new:
            # The message goes to the log: it must not quote the UIDs.
            raise PinConflictError("Keep/Replace would give one original UID two different new values")

    def pinned(self, original: str) -> str | None:
        """The value Keep/Replace forces for ``original`` in this call, if any."""
        return self._pinned.get(original)

    def uid(self, original: str) -> str:
        """The new UID for ``original``: pinned, else the project's stable one."""
        pinned = self._pinned.get(original)
        if pinned is not None:
            return pinned
        if self.retain_uids:
            stored = self._stored(UID_KIND, original, lambda: original)
            if stored != original:
                # The message goes to the log and the client: no UID in it.
                raise RetainedUidConflict(
                    "RetainUIDs: the project already gives a UID of this instance a new value (an earlier call "
                    "without RetainUIDs); keeping it would break the project's mapping: use another Project"
                )
            return stored
        stored = self._stored(UID_KIND, original, lambda: self._uid_factory(self.project, original))
        if stored == original:
            # Recorded as itself by an earlier RetainUIDs call: reusing it
            # silently would output the original UID under a Basic Profile
            # claim (113100 without 113110). No UID in the message.
            raise RetainedUidConflict(
                f"project {self.project} retained the UIDs of this instance (RetainUIDs): "
                "repeat the call with RetainUIDs, or use another Project"
            )
        return stored

    def pseudonym(self, patient_id: str) -> str:
        """PatientID and PatientName of an original PatientID, stable per project."""
        return self._stored(PATIENT_KIND, patient_id, lambda: self._patient_keys.pseudonym(self.project, patient_id))

    def date_offset_days(self, patient_id: str) -> int:
        """Days to add to this patient's dates, stable per project (created on first use)."""
        make = lambda: str(self._patient_keys.date_offset(self.project, patient_id))  # noqa: E731
        return int(self._stored(DATE_OFFSET_KIND, patient_id, make))

    def _stored(self, kind: str, original: str, make: Callable[[], str]) -> str:
        """The project's value for ``original``, from this call's cache or the store."""
        key = (kind, original)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._store.get_or_create(self.project, kind, original, make)
        return found
