"""The Orthanc side of anon-consistent. ``register`` receives the ``orthanc`` module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .. import __version__
from ..profile import load_basic_profile
from ..service import Anonymizer
from ..store import JobStore, MappingStore, SchemaError, StoreUnavailable
from .config import ConfigError, load_config
from .jobs import JobQueue
from .library_output import keep_values_out_of_the_log
from .loopback import make_gateway
from .native_routes import NativeRoutes
from .routes import Routes

EXPLORER_JS = Path(__file__).with_name("explorer.js")


class OrthancLogHandler(logging.Handler):
    """Sends the engine's Python logging to Orthanc's own log."""

    def __init__(self, orthanc: Any) -> None:
        super().__init__()
        self._orthanc = orthanc

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        if record.levelno >= logging.ERROR:
            self._orthanc.LogError(message)
        elif record.levelno >= logging.WARNING:
            self._orthanc.LogWarning(message)
        else:
            self._orthanc.LogInfo(message)


def register(orthanc: Any) -> Routes | None:
    """Configure the plugin inside a running Orthanc; returns None if it refused to start."""
    logger = logging.getLogger("anon_consistent")
    logger.addHandler(OrthancLogHandler(orthanc))
    logger.setLevel(logging.INFO)
    keep_values_out_of_the_log()
    try:
        config = load_config(orthanc)
    except ConfigError as error:
        orthanc.LogError(f"anon-consistent is NOT started: invalid configuration: {error}")
        raise
    try:
        store = MappingStore.open(config.mapping_database)
    except (SchemaError, StoreUnavailable) as error:
        # Either message names the database without its password.
        orthanc.LogError(f"anon-consistent is NOT started: {error}")
        raise
    uid_factory, patient_keys = config.factories()
    gateway = make_gateway(orthanc, config.loopback_port, config.http_threads)
    anonymizer = Anonymizer(
        gateway=gateway,
        store=store,
        profile=load_basic_profile(),
        uid_factory=uid_factory,
        patient_keys=patient_keys,
        safe_private=config.safe_private(),
        on_lock_wait=gateway.yield_http_threads,
        provenance_metadata=config.provenance_metadata,
    )
    job_store = JobStore(store.database, node=config.node)
    jobs = JobQueue(config.max_concurrent_jobs, job_store, anonymizer.locks)
    routes = Routes(anonymizer=anonymizer, gateway=gateway, store=store, jobs=jobs, config=config)
    for uri, callback in {**routes.table(), **NativeRoutes(routes).table()}.items():
        orthanc.RegisterRestCallback(uri, callback)

    def on_change(change_type: Any, level: Any, resource: str) -> None:
        if change_type == orthanc.ChangeType.ORTHANC_STOPPED and jobs.stop():
            store.close()  # only once no worker can still write to it

    orthanc.RegisterOnChangeCallback(on_change)
    if EXPLORER_JS.exists():
        orthanc.ExtendOrthancExplorer(EXPLORER_JS.read_text(encoding="utf-8"))
    if config.mapping_database.shared and not config.node:
        orthanc.LogWarning(
            'anon-consistent: the mapping database is shared but this node has no "DatabaseServerIdentifier": '
            "give each node its own, so that a restarted node at once reports the jobs it left unfinished "
            "(until then they are reported 10 s after their heartbeat stops)"
        )
    if config.provenance_metadata is not None and config.provenance_name is None:
        orthanc.LogWarning(
            f"anon-consistent: the provenance metadata {config.provenance_metadata} has no name in "
            '"UserMetadata"; it is written and read by number (see the README, "Provenance")'
        )
    orthanc.LogWarning(
        f"anon-consistent {__version__} started: profile PS3.15 {anonymizer.profile.edition}, "
        f"{config.uid_strategy} UIDs, mapping database {config.mapping_database.describe()}, "
        f"instances via {'loopback HTTP' if config.loopback_port else 'the plugin SDK'}"
    )
    return routes
