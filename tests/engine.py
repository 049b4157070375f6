"""Run the engine offline, without Orthanc, for unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

import pydicom
from pydicom.dataset import Dataset

from anon_consistent.options import AnonymizationOptions
from anon_consistent.plan import ElementPlan
from anon_consistent.profile import load_basic_profile
from anon_consistent.pseudonyms import PatientKeyFactory, RandomPatientKeys
from anon_consistent.rewriter import pin_uid_overrides, rewrite_instance
from anon_consistent.session import MappingSession
from anon_consistent.store import MappingStore
from anon_consistent.uids import RandomUidFactory


@dataclass
class OfflineEngine:
    store: MappingStore = field(default_factory=lambda: MappingStore.open(":memory:"))
    # Random by default; a keyed factory makes date offsets repeatable.
    patient_keys: PatientKeyFactory = field(default_factory=RandomPatientKeys)

    def session(self, project: str = "default", retain_uids: bool = False) -> MappingSession:
        return MappingSession(self.store, project, RandomUidFactory(), self.patient_keys, retain_uids=retain_uids)

    def run_bytes(self, blobs: list[bytes], options: AnonymizationOptions | None = None) -> list[bytes]:
        options = options or AnonymizationOptions()
        plan = ElementPlan(load_basic_profile(), options)
        session = self.session(options.project, options.retain_uids)
        if options.uid_overrides:
            for blob in blobs:
                pin_uid_overrides(blob, plan, session)
        return [rewrite_instance(blob, plan, session) for blob in blobs]

    def run(self, blobs: list[bytes], options: AnonymizationOptions | None = None) -> list[Dataset]:
        return [pydicom.dcmread(BytesIO(out)) for out in self.run_bytes(blobs, options)]
