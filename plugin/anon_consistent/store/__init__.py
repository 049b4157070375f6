"""The mapping database: the mapping, the job records and the cross-node locks.

One protocol (``database.Database``), two backends: SQLite, embedded, the
default for one Orthanc; PostgreSQL, for several Orthanc nodes sharing one
mapping. ``open_database`` picks the backend from the configured location.
"""

from __future__ import annotations

from .database import SCHEMA_VERSION, Database, SchemaError, StoreUnavailable
from .jobs import JobRecord, JobStore, interruption_message
from .location import StoreLocation, open_database
from .mapping import MappingRow, MappingStore

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "JobRecord",
    "JobStore",
    "MappingRow",
    "MappingStore",
    "SchemaError",
    "StoreLocation",
    "StoreUnavailable",
    "interruption_message",
    "open_database",
]
