"""Persistent mapping of original values to anonymized ones, per project.

``kind`` is ``UID``, ``PatientID`` (the pseudonym, also used as PatientName)
or ``DateOffset`` (days, as text). The key (project, kind, original) makes
"first writer wins" hold even when threads, processes or Orthanc nodes race
for the same original: on a miss everyone inserts with ``ON CONFLICT DO
NOTHING``, then everyone reads the one stored row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from .database import Database, lock_key
from .location import StoreLocation, open_database

_FIND = "SELECT anonymized FROM mapping WHERE project = ? AND kind = ? AND original = ?"
_ROW = "SELECT project, kind, original, anonymized, created_at FROM mapping"


@dataclass(frozen=True)
class MappingRow:
    project: str
    kind: str
    original: str
    anonymized: str
    created_at: str

    def as_json(self) -> dict[str, str]:
        return {"Kind": self.kind, "Original": self.original, "Anonymized": self.anonymized, "Created": self.created_at}


class MappingStore:
    """The mapping, in whichever ``Database`` the configuration names."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    def open(cls, location: StoreLocation | str | Path) -> MappingStore:
        """The store at ``location``: a configured location, a PostgreSQL URI or a SQLite path."""
        return cls(open_database(location))

    def close(self) -> None:
        self.database.close()

    def find(self, project: str, kind: str, original: str) -> str | None:
        """The stored value for ``original``, without creating one."""
        rows = self.database.execute(_FIND, (project, kind, original))
        return str(rows[0][0]) if rows else None

    def get_or_create(self, project: str, kind: str, original: str, make: Callable[[], str]) -> str:
        """Return the stored value for ``original``, creating it with ``make`` if absent."""
        found = self.find(project, kind, original)
        if found is not None:
            return found
        self.database.modify(
            "INSERT INTO mapping (project, kind, original, anonymized) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (project, kind, original, make()),
        )
        # Another thread, process or node may have won the race: whatever is stored is the answer.
        stored = self.find(project, kind, original)
        if stored is None:
            raise RuntimeError("the mapping row just written cannot be read back")
        return stored

    def exclusive(
        self, project: str, instance_ids: Iterable[str], keep_waiting: Callable[[], bool]
    ) -> AbstractContextManager[None]:
        """Hold these source instances of ``project`` against calls on other Orthanc nodes."""
        return self.database.exclusive((lock_key(project, i) for i in instance_ids), keep_waiting)

    def projects(self, only: str | None = None) -> list[dict[str, object]]:
        """Every project (or only one) with its number of mappings per kind."""
        where, arguments = ("WHERE project = ?", (only,)) if only is not None else ("", ())
        rows = self.database.execute(
            f"SELECT project, kind, COUNT(*) FROM mapping {where} GROUP BY project, kind ORDER BY project, kind",
            arguments,
        )
        summary: dict[str, dict[str, int]] = {}
        for project, kind, count in rows:
            summary.setdefault(project, {})[kind] = int(count)
        return [{"Project": p, "Counts": counts, "Total": sum(counts.values())} for p, counts in summary.items()]

    def has_project(self, project: str) -> bool:
        return bool(self.database.execute("SELECT 1 FROM mapping WHERE project = ? LIMIT 1", (project,)))

    def rows(self, project: str) -> list[MappingRow]:
        found = self.database.execute(f"{_ROW} WHERE project = ? ORDER BY kind, created_at, original", (project,))
        return [MappingRow(*row) for row in found]

    def lookup(self, project: str, value: str) -> list[MappingRow]:
        """Rows where ``value`` is either the original or the anonymized value."""
        found = self.database.execute(
            f"{_ROW} WHERE project = ? AND (original = ? OR anonymized = ?) ORDER BY kind", (project, value, value)
        )
        return [MappingRow(*row) for row in found]

    def delete_project(self, project: str) -> int:
        """Remove a project; returns how many rows were deleted."""
        return self.database.modify("DELETE FROM mapping WHERE project = ?", (project,))
