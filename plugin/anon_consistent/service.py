"""One anonymization call, from resource to stored result.

request -> plan -> per-instance rewrite -> store -> response. The Orthanc side
is reached only through the ``OrthancGateway`` protocol, which the adapter
implements with the real SDK and the unit tests with a fake.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .call_locks import Claim, InstanceLocks, LockWaitCancelled
from .errors import describe_unexpected
from .options import FORCE_REQUIRED, AnonymizationOptions
from .orthanc_ids import instance_id_of, same_identity
from .pipeline import Stopped, run_pipeline
from .plan import ElementPlan
from .profile import ConfidentialityProfile
from .profile.safe_private import SafePrivateTable, load_safe_private
from .provenance import MetadataGateway, ProvenanceError, ProvenanceRecorder, SourceParents
from .pseudonyms import PatientKeyFactory
from .results import AnonymizationResult, Level, OrthancIds, Produced, StoredInstance
from .rewriter import InstanceRewriteError, pin_uid_overrides, rewrite_instance
from .session import MappingSession, PinConflictError
from .store import MappingStore, StoreUnavailable
from .uids import UidFactory

log = logging.getLogger(__name__)

# Orthanc identifies an instance by its PatientID and three UIDs.
OVERWRITES_SOURCE = "the anonymized instance would overwrite its source: every identifier was kept"


class ResourceNotFound(LookupError):
    """The Orthanc resource to anonymize does not exist (HTTP 404)."""


class Cancelled(Exception):
    """The caller asked to stop; instances stored so far stay.

    ``nothing_stored`` says the message already tells that no instance was
    stored, so no count needs to follow it.
    """

    def __init__(self, message: str, nothing_stored: bool = False) -> None:
        super().__init__(message)
        self.nothing_stored = nothing_stored


class NothingAnonymized(RuntimeError):
    """Every instance failed; the result carries the reasons."""

    def __init__(self, result: AnonymizationResult) -> None:
        super().__init__(f"none of the {result.total} instance(s) could be anonymized")
        self.result = result


class OrthancGateway(MetadataGateway, Protocol):
    def instances_of(self, level: Level, resource_id: str) -> list[str]:
        """Orthanc IDs of every instance below a resource; ResourceNotFound if absent."""

    def read_instance(self, instance_id: str) -> bytes: ...

    def store_instance(self, data: bytes) -> StoredInstance: ...

    def delete_instance(self, instance_id: str) -> None: ...

    def stored_md5(self, instance_id: str) -> str | None:
        """MD5 of the stored file, if Orthanc recorded one."""


@dataclass
class Anonymizer:
    """Everything a call needs that does not change between calls."""

    gateway: OrthancGateway
    store: MappingStore
    profile: ConfidentialityProfile
    uid_factory: UidFactory
    patient_keys: PatientKeyFactory
    locks: InstanceLocks = field(default_factory=InstanceLocks)
    # Called when a call must wait for an earlier one on the same instances:
    # the adapter stops loopback transfers that the waiting call's HTTP
    # thread could starve.
    on_lock_wait: Callable[[], None] = field(default=lambda: None)
    # Table E.3.10-1, extended with the site's "SafePrivateTags".
    safe_private: SafePrivateTable = field(default_factory=load_safe_private)
    # The user metadata that links each result to its source; None: not recorded.
    provenance_metadata: int | None = None

    def list_instances(self, level: Level, resource_id: str) -> list[str]:
        return self.gateway.instances_of(level, resource_id)

    def run(
        self,
        level: Level | None,
        instance_ids: list[str],
        options: AnonymizationOptions,
        on_progress: Callable[[int, int], bool] = lambda done, total: True,
        gateway: OrthancGateway | None = None,
        on_stored: Callable[[int], None] = lambda stored: None,
        claim: Claim | None = None,
    ) -> AnonymizationResult:
        """Anonymize ``instance_ids``; ``on_progress`` returning False cancels.

        ``gateway`` overrides the default one for this call (the adapter picks
        the transport per call); ``on_stored`` receives the running count of
        stored instances, so that an interrupted call can say how far it got.
        ``claim`` is the place in line a job took when it was submitted.
        """
        try:
            keep_waiting = lambda: on_progress(0, len(instance_ids))  # noqa: E731
            # First in line in this Orthanc, then against calls on the other nodes of a shared database.
            with (
                self.locks.hold(options.project, instance_ids, keep_waiting, self.on_lock_wait, claim),
                self.store.exclusive(options.project, instance_ids, keep_waiting),
            ):
                return self._run(level, instance_ids, options, on_progress, gateway or self.gateway, on_stored)
        except LockWaitCancelled as stop:
            raise Cancelled(f"{stop}; nothing stored", nothing_stored=True) from None

    def _run(
        self,
        level: Level | None,
        instance_ids: list[str],
        options: AnonymizationOptions,
        on_progress: Callable[[int, int], bool],
        gateway: OrthancGateway,
        on_stored: Callable[[int], None],
    ) -> AnonymizationResult:
        plan, session = self._prepare(options)
        result = AnonymizationResult(level=level, total=len(instance_ids))
        sources = frozenset(instance_ids)
        total = len(instance_ids)
        # With pinned UIDs every instance is read twice (pins first): progress
        # then counts 2 steps per instance, so a job moves from the start.
        steps = 2 * total if options.uid_overrides else total

        def pin_progress(read: int) -> bool:
            return on_progress(read, steps)

        unreadable = (
            self._pin_overrides(gateway, instance_ids, plan, session, pin_progress) if options.uid_overrides else {}
        )
        for instance_id, reason in unreadable.items():
            result.failed.append({"ID": instance_id, "Error": reason})
        pending = [i for i in instance_ids if i not in unreadable]

        def keep_going(started: int) -> bool:
            return on_progress(steps - total + len(unreadable) + started, steps)

        stored_count = 0
        parents = SourceParents(gateway)
        index = self.provenance_metadata
        provenance = ProvenanceRecorder(gateway, index) if index is not None else None

        def store(rewritten: tuple[bytes, OrthancIds]) -> Produced:
            nonlocal stored_count  # only the pipeline's storing thread writes it
            data, source = rewritten
            stored, fresh = self._store(gateway, data, sources)
            produced = Produced(OrthancIds.of_stored(stored), source)
            if provenance is not None:
                provenance.record(produced, fresh)
            stored_count += 1
            on_stored(stored_count)
            return produced

        try:
            outcomes = run_pipeline(
                pending,
                read=lambda instance_id: (gateway.read_instance(instance_id), parents.ids_of(instance_id)),
                transform=lambda read: self._rewrite(read, plan, session, sources),
                store=store,
                should_continue=keep_going,
            )
        except Stopped as stopped:
            raise Cancelled(f"cancelled after {len(stopped.outcomes)} of {total} instances") from None
        finally:
            unlinked = provenance.finish() if provenance is not None else {}
        for outcome in outcomes:
            error = outcome.error
            if error is None and outcome.value is not None and outcome.value.new.instance in unlinked:
                error = ProvenanceError(unlinked[outcome.value.new.instance])
            if error is not None:
                reason = describe_failure(error)
                log.error("anon-consistent: instance %s failed: %s", outcome.item_id, reason)
                result.failed.append({"ID": outcome.item_id, "Error": reason})
            elif outcome.value is not None:
                result.produced.append(outcome.value)
        on_progress(total, total)
        if result.done == 0 and total > 0:
            raise NothingAnonymized(result)
        if not options.keep_source and not result.failed:
            for instance_id in instance_ids:
                gateway.delete_instance(instance_id)
            result.source_deleted = True
        return result

    def anonymize_to_file(
        self, instance_id: str, options: AnonymizationOptions, gateway: OrthancGateway | None = None
    ) -> bytes:
        """The anonymized file of one instance, not stored (native's instance-level answer).

        The project mapping is recorded as in any call, so that later calls
        agree with this file. Errors are the per-instance ones (an
        ``InstanceRewriteError`` says why, without values).
        """
        source = gateway or self.gateway
        try:
            with (
                self.locks.hold(options.project, [instance_id], keep_waiting=lambda: True, on_wait=self.on_lock_wait),
                self.store.exclusive(options.project, [instance_id], keep_waiting=lambda: True),
            ):
                plan, session = self._prepare(options)
                data = source.read_instance(instance_id)
                if options.uid_overrides:
                    pin_uid_overrides(data, plan, session)
                return rewrite_instance(data, plan, session)
        except LockWaitCancelled as stop:
            raise Cancelled(str(stop), nothing_stored=True) from None

    def _prepare(self, options: AnonymizationOptions) -> tuple[ElementPlan, MappingSession]:
        plan = ElementPlan(self.profile, options, self.safe_private)
        session = MappingSession(
            self.store, options.project, self.uid_factory, self.patient_keys, retain_uids=options.retain_uids
        )
        return plan, session

    def _pin_overrides(
        self,
        gateway: OrthancGateway,
        instance_ids: list[str],
        plan: ElementPlan,
        session: MappingSession,
        keep_going: Callable[[int], bool],
    ) -> dict[str, str]:
        failures = {}
        for index, instance_id in enumerate(instance_ids):
            if not keep_going(index):
                reading = f"cancelled while reading {index} of {len(instance_ids)} instances"
                raise Cancelled(f"{reading}; none stored", nothing_stored=True)
            try:
                pin_uid_overrides(gateway.read_instance(instance_id), plan, session)
            except Exception as error:  # noqa: BLE001 - reported per instance, as in the pipeline
                failures[instance_id] = describe_failure(error)
                log.error("anon-consistent: instance %s failed: %s", instance_id, failures[instance_id])
        return failures

    @staticmethod
    def _rewrite(
        read: tuple[bytes, OrthancIds], plan: ElementPlan, session: MappingSession, sources: frozenset[str]
    ) -> tuple[bytes, OrthancIds]:
        data, source = read
        rewritten = rewrite_instance(data, plan, session)
        options = plan.options
        # With its UIDs kept, a result can have its source's Orthanc ID: storing
        # it would be refused or, with "OverwriteInstances", replace the source.
        if (options.retain_uids or options.uid_overrides & FORCE_REQUIRED) and (
            same_identity(rewritten, data) or instance_id_of(rewritten) in sources
        ):
            raise StoreError(OVERWRITES_SOURCE)
        return rewritten, source

    def _store(self, gateway: OrthancGateway, data: bytes, sources: frozenset[str]) -> tuple[StoredInstance, bool]:
        """The stored instance, and whether it was stored by this call (so it has no metadata yet)."""
        stored = gateway.store_instance(data)
        if stored.id in sources:
            # Whatever the status: with "OverwriteInstances" the source is already replaced;
            # the failure at least keeps KeepSource: false from deleting the result too.
            raise StoreError(OVERWRITES_SOURCE)
        if stored.status != "AlreadyStored":
            return stored, True
        # Orthanc keeps the first copy of a SOP instance; a re-run with other
        # options must replace it ("latest call wins").
        if gateway.stored_md5(stored.id) == hashlib.md5(data).hexdigest():
            return stored, False  # an identical re-run: nothing to replace
        gateway.delete_instance(stored.id)
        return gateway.store_instance(data), True


class StoreError(RuntimeError):
    """Orthanc refused to store an anonymized instance."""


def describe_failure(error: Exception) -> str:
    """The reason logged and answered: never an original value.

    Our own errors are worded without values; anything else names its type
    and has whatever it quotes removed.
    """
    own = (InstanceRewriteError, PinConflictError, StoreError, ResourceNotFound, ProvenanceError, StoreUnavailable)
    if isinstance(error, own):
        return str(error)
    return describe_unexpected(error)
