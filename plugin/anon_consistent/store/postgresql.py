"""The shared backend: PostgreSQL, so that several Orthanc nodes use one mapping.

Everything lives in the schema ``anon_consistent``, out of the way of the
tables Orthanc's own PostgreSQL plugins keep in the same database. Every
statement is autocommitted and idempotent (inserts are ``ON CONFLICT DO
NOTHING``, updates compare before they set), which is what makes a lost
connection safe to retry: a statement either happened or did not, and running
it again changes nothing more. A call that is in flight while PostgreSQL is
away fails its instances with ``StoreUnavailable``; the next call reconnects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..call_locks import POLL_SECONDS, LockWaitCancelled
from .database import SCHEMA_VERSION, Row, StoreUnavailable, check_version

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

SCHEMA = "anon_consistent"
# Taken while a node creates or upgrades the schema, so that two nodes starting together do not race.
_SCHEMA_LOCK = 0x616E6F6E  # "anon"
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.mapping (
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    original TEXT NOT NULL,
    anonymized TEXT NOT NULL,
    created_at TEXT NOT NULL
        DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    PRIMARY KEY (project, kind, original)
);
CREATE INDEX IF NOT EXISTS mapping_by_anonymized ON {SCHEMA}.mapping (project, anonymized);
CREATE TABLE IF NOT EXISTS {SCHEMA}.jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL,
    request TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '{{}}',
    error TEXT NOT NULL DEFAULT '',
    created DOUBLE PRECISION NOT NULL,
    completed DOUBLE PRECISION,
    node TEXT NOT NULL DEFAULT '',
    runner TEXT NOT NULL DEFAULT '',
    heartbeat DOUBLE PRECISION,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
-- Takes the first keys it can, in the order given, and stops at the first one another
-- session holds: the caller waits for that one while holding only smaller keys, so
-- two callers can never wait for each other.
CREATE OR REPLACE FUNCTION {SCHEMA}.try_locks(keys BIGINT[]) RETURNS INTEGER AS $$
DECLARE
    taken INTEGER := 0;
    k BIGINT;
BEGIN
    FOREACH k IN ARRAY keys LOOP
        IF NOT pg_try_advisory_lock(k) THEN
            RETURN taken;
        END IF;
        taken := taken + 1;
    END LOOP;
    RETURN taken;
END
$$ LANGUAGE plpgsql;
INSERT INTO {SCHEMA}.meta VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
"""
# After a failed connection, statements fail at once for this long instead of
# each waiting for its own connection attempt (a call has one per instance).
_RETRY_AFTER_SECONDS = 1.0
_CONNECT_TIMEOUT_SECONDS = 5
_MAX_IDLE = 8

T = TypeVar("T")


class PostgresDatabase:
    """A small pool of autocommitted connections; one is set aside per ``exclusive`` holder."""

    shared = True
    now_sql = "extract(epoch from clock_timestamp())"

    def __init__(self, conninfo: str, description: str, start_timeout: float = 30.0) -> None:
        import psycopg  # only PostgreSQL users need the driver loaded

        self._psycopg = psycopg
        self._conninfo = conninfo
        self._description = description
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._down_until = 0.0
        # At start-up PostgreSQL may still be starting (a cluster started at once): wait for it.
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                self._run(self._create_schema)
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                self._down_until = 0.0
                time.sleep(1.0)

    def _create_schema(self, connection: psycopg.Connection[Any]) -> None:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            # A newer plugin's schema is refused before anything of it is replaced.
            (exists,) = connection.execute(f"SELECT to_regclass('{SCHEMA}.meta') IS NOT NULL").fetchone() or (False,)
            if exists:
                row = connection.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
                check_version(int(row[0]) if row else SCHEMA_VERSION)
            connection.execute(_DDL)

    def execute(self, sql: str, arguments: tuple[Any, ...] = ()) -> list[Row]:
        query = _placeholders(sql)
        return self._run(lambda connection: connection.execute(query, arguments).fetchall())

    def modify(self, sql: str, arguments: tuple[Any, ...] = ()) -> int:
        query = _placeholders(sql)
        return self._run(lambda connection: connection.execute(query, arguments).rowcount)

    @contextmanager
    def exclusive(self, keys: Iterable[int], keep_waiting: Callable[[], bool]) -> Iterator[None]:
        ordered = sorted(set(keys))
        if not ordered:
            yield
            return
        # Advisory locks belong to a session: this connection is the holder until the end.
        connection = self._take()
        try:
            taken, reconnected = 0, False
            while True:
                try:
                    taken += self._try_locks(connection, ordered[taken:])
                except _Lost:
                    # Locks already taken died with the session: the call cannot go on safely.
                    if taken or reconnected:
                        raise self._unavailable("the connection was lost") from None
                    self._drop_idle()
                    connection, reconnected = self._take(), True
                    continue
                if taken == len(ordered):
                    break
                if not keep_waiting():
                    raise LockWaitCancelled("cancelled while waiting for an earlier call on the same instances")
                time.sleep(POLL_SECONDS)
            yield
        finally:
            self._release_locks(connection)

    def _try_locks(self, connection: psycopg.Connection[Any], keys: list[int]) -> int:
        """How many of ``keys``, in order, this session now holds (raises _Lost with the connection)."""
        row = self._guard(connection, lambda c: c.execute(f"SELECT {SCHEMA}.try_locks(%s)", (keys,)).fetchone())
        return int(row[0]) if row else 0

    def describe(self) -> str:
        return self._description

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # -- connections -------------------------------------------------------

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` on a pooled connection; if the connection is found dead, so are its idle
        siblings (PostgreSQL restarted): they are dropped and ``work`` runs once more on a new one."""
        for attempt in (1, 2):
            connection = self._take()
            try:
                result = self._guard(connection, work)
            except _Lost:
                if attempt == 2:
                    raise self._unavailable("the connection was lost") from None
                self._drop_idle()
                continue
            self._give(connection)
            return result
        raise AssertionError("unreachable")

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _guard(self, connection: psycopg.Connection[Any], work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` on ``connection``; on any error the connection is closed, never reused half-way."""
        try:
            return work(connection)
        except self._psycopg.Error:
            lost = connection.broken or connection.closed
            connection.close()
            if lost:
                raise _Lost() from None
            raise
        except BaseException:
            connection.close()
            raise

    def _take(self) -> psycopg.Connection[Any]:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if time.monotonic() < self._down_until:
                raise self._unavailable("it did not answer a moment ago")
        try:
            connection = self._psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_SECONDS,
                application_name="anon-consistent",
                # A SQL_ASCII database would otherwise answer bytes, not text.
                client_encoding="utf8",
            )
        except self._psycopg.Error:
            with self._lock:
                self._down_until = time.monotonic() + _RETRY_AFTER_SECONDS
            # libpq's message names host, port and user, never the password; it is
            # still not quoted, so that a value put in the URI cannot reach the log.
            raise self._unavailable("cannot connect") from None
        connection.execute(f"SET search_path TO {SCHEMA}")
        return connection

    def _give(self, connection: psycopg.Connection[Any]) -> None:
        if connection.closed:
            return
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _release_locks(self, connection: psycopg.Connection[Any]) -> None:
        if connection.closed:
            return  # the session is gone, and its locks with it
        try:
            connection.execute("SELECT pg_advisory_unlock_all()")
        except self._psycopg.Error:
            connection.close()
            return
        self._give(connection)

    def _unavailable(self, why: str) -> StoreUnavailable:
        return StoreUnavailable(f"the mapping database {self._description} is unavailable: {why}")


class _Lost(Exception):
    """The connection died under a statement; it is closed and a new one may retry."""


def _placeholders(sql: str) -> str:
    """The shared SQL uses ``?``; psycopg wants ``%s`` (no shared statement has a literal ? or %)."""
    return sql.replace("?", "%s")
