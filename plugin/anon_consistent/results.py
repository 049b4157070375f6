"""What one anonymization call produced, and the answers built from it.

The answers keep the keys of Orthanc's own ``/anonymize`` and
``/tools/bulk-anonymize`` (``ID``, ``Path``, ``Type``, ``PatientID``,
``Description``, ``InstancesCount``, ``FailedInstancesCount``,
``IsAnonymization``, ``Resources``), so that a script reading native answers
reads ours, and add what only this plugin knows (``Project``,
``FailedInstances``, ``SourceDeleted``, ``AnonymizedFrom``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

# Orthanc answers this constant as the Description of every job submitted
# through its REST API, anonymizations included.
DESCRIPTION = "REST API"


class Level(Enum):
    PATIENT = ("patients", "Patient", "ParentPatient")
    STUDY = ("studies", "Study", "ParentStudy")
    SERIES = ("series", "Series", "ParentSeries")
    INSTANCE = ("instances", "Instance", "ID")

    def __init__(self, plural: str, label: str, stored_key: str) -> None:
        self.plural = plural
        self.label = label
        self.stored_key = stored_key

    @classmethod
    def from_plural(cls, plural: str) -> Level:
        for level in cls:
            if level.plural == plural:
                return level
        raise ValueError(f"unknown level {plural!r}")


# An Orthanc ID: a SHA-1 as five groups of eight hex digits (always fullmatch).
ORTHANC_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{8}){4}")

# Native lists new resources from the bottom up.
BOTTOM_UP = (Level.INSTANCE, Level.SERIES, Level.STUDY, Level.PATIENT)


@dataclass(frozen=True)
class StoredInstance:
    """What Orthanc answered to POST /instances."""

    id: str
    status: str
    parents: dict[str, str]


@dataclass(frozen=True)
class OrthancIds:
    """The Orthanc IDs of an instance and of its series, study and patient."""

    patient: str
    study: str
    series: str
    instance: str

    def at(self, level: Level) -> str:
        return {
            Level.PATIENT: self.patient,
            Level.STUDY: self.study,
            Level.SERIES: self.series,
            Level.INSTANCE: self.instance,
        }[level]

    @classmethod
    def of_stored(cls, stored: StoredInstance) -> OrthancIds:
        parents = stored.parents
        return cls(
            parents.get("ParentPatient", ""), parents.get("ParentStudy", ""), parents.get("ParentSeries", ""), stored.id
        )


@dataclass(frozen=True)
class Produced:
    """One stored result and the source it was made from."""

    new: OrthancIds
    source: OrthancIds


@dataclass
class AnonymizationResult:
    """``level`` is the level the call named; None for a bulk call."""

    level: Level | None
    total: int
    produced: list[Produced] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    source_deleted: bool = False

    @property
    def done(self) -> int:
        return len(self.produced)

    def new_resources(self) -> list[tuple[Level, str, str]]:
        """Each new resource once, as (level, new ID, source ID), instances first as native lists them.

        A resource stored by several instances of the call keeps the source
        of the first one (they agree unless a Replace merged two sources).
        """
        found: list[tuple[Level, str, str]] = []
        for level in BOTTOM_UP:
            seen: set[str] = set()
            for produced in self.produced:
                new = produced.new.at(level)
                if new and new not in seen:
                    seen.add(new)
                    found.append((level, new, produced.source.at(level)))
        return found

    def _counts(self, project: str) -> dict[str, object]:
        return {
            "Description": DESCRIPTION,
            "InstancesCount": self.done,
            "FailedInstancesCount": len(self.failed),
            "FailedInstances": self.failed,
            "IsAnonymization": True,
            "Project": project,
            "SourceDeleted": self.source_deleted,
        }

    def as_json(self, project: str) -> dict[str, object]:
        """The answer of a call on one resource: native's keys, then ours."""
        level = self.level or Level.INSTANCE
        last = self.produced[-1] if self.produced else None
        resource_id = last.new.at(level) if last else None
        return {
            "ID": resource_id,
            "Path": f"/{level.plural}/{resource_id}" if resource_id else None,
            "Type": level.label,
            "PatientID": last.new.patient if last else None,
            **self._counts(project),
            "AnonymizedFrom": last.source.at(level) if last else None,
        }

    def as_bulk_json(self, project: str) -> dict[str, object]:
        """The answer of a bulk call: every new resource with its source."""
        resources = [
            {"Type": level.label, "ID": new, "Path": f"/{level.plural}/{new}", "AnonymizedFrom": source}
            for level, new, source in self.new_resources()
        ]
        return {"Resources": resources, **self._counts(project)}
