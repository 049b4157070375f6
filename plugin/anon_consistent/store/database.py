"""What the mapping and the job records need from a database, whichever it is.

Two backends implement ``Database``: SQLite (``sqlite.py``, the embedded
default, one Orthanc) and PostgreSQL (``postgresql.py``, several Orthanc nodes
sharing one mapping). The SQL above them (``mapping.py``, ``jobs.py``) is
written once, with ``?`` placeholders, in the dialect both understand
(``INSERT ... ON CONFLICT DO NOTHING`` included); only the schema and the
current time differ, and each backend brings its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

# Version 1: mapping. 2: jobs. 3: jobs know their node, heartbeat and cancel request.
SCHEMA_VERSION = 3

Row = tuple[Any, ...]


class SchemaError(RuntimeError):
    """The database was written by an incompatible version of the plugin."""


class StoreUnavailable(RuntimeError):
    """The mapping database cannot be reached; nothing was written by the failed statement.

    The message names the database without its password and quotes no value.
    """


class Database(Protocol):
    """A connection (or pool of them) to the mapping database; safe to share between threads."""

    #: Whether several Orthanc processes may use it at once (a SQLite file belongs to one).
    shared: bool

    #: SQL expression for the database's current time in seconds since the epoch:
    #: one clock for every node, so that a heartbeat is never judged by a skewed one.
    now_sql: str

    def execute(self, sql: str, arguments: tuple[Any, ...] = ()) -> list[Row]:
        """Run one statement (autocommitted) and return its rows."""

    def modify(self, sql: str, arguments: tuple[Any, ...] = ()) -> int:
        """Run one statement (autocommitted) and return how many rows it changed."""

    def exclusive(self, keys: Iterable[int], keep_waiting: Callable[[], bool]) -> AbstractContextManager[None]:
        """Hold ``keys`` against every other process using this database, for the body.

        Keys are taken in ascending order, so two holders never deadlock;
        ``keep_waiting`` is asked while waiting, and False raises
        ``LockWaitCancelled``. A backend that only one process uses may
        hold nothing.
        """

    def describe(self) -> str:
        """Where the database is, for logs and errors: never a password."""

    def close(self) -> None: ...


def check_version(found: int) -> None:
    """Refuse a database written by a newer plugin: its schema may mean something this one does not know."""
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"mapping database has schema version {found}, newer than this plugin's {SCHEMA_VERSION}: "
            "upgrade the plugin"
        )


def lock_key(project: str, instance_id: str) -> int:
    """A 64-bit key for one source instance of one project (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"{project}\0{instance_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
