"""Fixtures shared by the unit and integration tests: a real PostgreSQL for the shared store."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from tests.postgres_server import PostgresServer

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL 15 for the session, on a free port, 127.0.0.1 only, in a temporary directory."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def new_postgres_database(postgres: PostgresServer) -> Callable[[], str]:
    """A fresh, empty database on the session's PostgreSQL; returns its URI."""
    return lambda: postgres.create_database(f"t{next(_databases)}")
