"""Orthanc nodes sharing one PostgreSQL: the index, the files and our mapping (tests, bench, make run-cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.orthanc_server import PYTHON_PLUGIN, OrthancServer
from tests.postgres_server import SUPERUSER, PostgresServer

PLUGINS = Path("/usr/share/orthanc/plugins")
INDEX_PLUGIN = PLUGINS / "libOrthancPostgreSQLIndex.so"
STORAGE_PLUGIN = PLUGINS / "libOrthancPostgreSQLStorage.so"


def node_settings(port: int, database: str, name: str) -> dict[str, Any]:
    """What a node adds to its orthanc.json. Measured with orthanc-postgresql 4.0 on Orthanc 1.10.1:
    without "Lock": false the second node refuses to start; without the storage plugin a node
    cannot read the files another node stored; each node needs its own DatabaseServerIdentifier."""
    return {
        "Plugins": [PYTHON_PLUGIN, str(INDEX_PLUGIN), str(STORAGE_PLUGIN)],
        "PostgreSQL": {
            "EnableIndex": True,
            "EnableStorage": True,
            "Host": "127.0.0.1",
            "Port": port,
            "Database": database,
            "Username": SUPERUSER,
            "Lock": False,
        },
        "DatabaseServerIdentifier": name,
    }


def cluster_node(
    workdir: Path,
    postgres: PostgresServer,
    database: str,
    name: str,
    plugin_config: dict[str, Any] | None = None,
    **extra: Any,
) -> OrthancServer:
    """An Orthanc node (not started) on ``database``, with our plugin's mapping in the same database."""
    return OrthancServer(
        workdir / name,
        plugin_config={"MappingDatabase": {"PostgreSQL": True}, **(plugin_config or {})},
        **node_settings(postgres.port, database, name),
        **extra,
    )
