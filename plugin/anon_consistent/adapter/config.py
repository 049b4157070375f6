"""The "AnonConsistent" section of orthanc.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..presets import Preset, PresetError, parse_presets
from ..private_blocks import PRIVATE_ATTRIBUTE_EXAMPLE, PrivateAttribute, parse_private_attribute
from ..profile.safe_private import SafePrivateAttribute, SafePrivateTable, load_safe_private
from ..provenance import DEFAULT_METADATA, FIRST_USER_METADATA, LAST_METADATA
from ..pseudonyms import HmacPatientKeys, PatientKeyFactory, RandomPatientKeys
from ..store.location import StoreLocation, parse_location
from ..uids import HmacUidFactory, RandomUidFactory, UidFactory, validate_uid_root

SECTION = "AnonConsistent"
# Orthanc's own default for "HttpThreadsCount".
DEFAULT_HTTP_THREADS = 50
MAPPING_FILE_NAME = "anon-consistent-mapping.sqlite"
# No "DatabaseServerIdentifier": the node has no name of its own.
DEFAULT_NODE = ""
SITE_LIST = f'site list ("{SECTION}.SafePrivateTags")'
_KNOWN = {
    "UidRoot",
    "UidStrategy",
    "Secret",
    "MappingDatabase",
    "AllowMappingExport",
    "MaxConcurrentJobs",
    "LoopbackHttp",
    "SafePrivateTags",
    "Presets",
    "ProvenanceMetadata",
}


class ConfigError(ValueError):
    """The configuration cannot be used; Orthanc must not start the plugin."""


@dataclass(frozen=True)
class PluginConfig:
    uid_strategy: str
    uid_root: str | None
    secret: str | None
    mapping_database: StoreLocation
    allow_mapping_export: bool
    max_concurrent_jobs: int
    loopback_port: int | None
    http_threads: int = DEFAULT_HTTP_THREADS
    # The site's additions to Table E.3.10-1 for Retain Safe Private.
    safe_private_tags: tuple[PrivateAttribute, ...] = ()
    presets: dict[str, Preset] = field(default_factory=dict)
    # The user metadata linking each result to its source; None: not recorded.
    provenance_metadata: int | None = DEFAULT_METADATA
    # Its name in Orthanc's "UserMetadata", if declared there.
    provenance_name: str | None = None
    # This Orthanc among the nodes sharing a database: its "DatabaseServerIdentifier".
    node: str = DEFAULT_NODE

    def factories(self) -> tuple[UidFactory, PatientKeyFactory]:
        """New UIDs and patient keys for the configured strategy."""
        if self.uid_strategy == "hmac":
            keyed = HmacUidFactory(self.secret or "")
            return keyed, HmacPatientKeys(keyed)
        return RandomUidFactory(self.uid_root), RandomPatientKeys()

    def safe_private(self) -> SafePrivateTable:
        """Table E.3.10-1 extended with the site's list."""
        site = (SafePrivateAttribute(a.creator, a.group, a.low_byte, "", "", SITE_LIST) for a in self.safe_private_tags)
        return load_safe_private().extended(site)


def parse_config(orthanc_config: dict[str, object], config_directory: Path) -> PluginConfig:
    """Validate the section; relative paths are relative to the configuration file, as in Orthanc."""
    section = orthanc_config.get(SECTION, {})
    if not isinstance(section, dict):
        raise ConfigError(f'"{SECTION}" must be a JSON object')
    unknown = sorted(set(section) - _KNOWN)
    if unknown:
        raise ConfigError(f'unknown option(s) in "{SECTION}": {", ".join(unknown)}')

    strategy = section.get("UidStrategy", "random")
    if strategy not in ("random", "hmac"):
        raise ConfigError(f'"{SECTION}.UidStrategy" must be "random" or "hmac", not {strategy!r}')
    secret = section.get("Secret")
    if strategy == "hmac" and (not isinstance(secret, str) or not secret):
        raise ConfigError(f'"{SECTION}.UidStrategy" is "hmac" but no "Secret" is configured')
    uid_root = section.get("UidRoot")
    if uid_root is not None:
        if not isinstance(uid_root, str):
            raise ConfigError(f'"{SECTION}.UidRoot" must be a string')
        try:
            validate_uid_root(uid_root)
        except ValueError as error:
            raise ConfigError(str(error)) from None
    allow_export = section.get("AllowMappingExport", False)
    if not isinstance(allow_export, bool):
        raise ConfigError(f'"{SECTION}.AllowMappingExport" must be true or false')
    jobs = section.get("MaxConcurrentJobs", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= 16:
        raise ConfigError(f'"{SECTION}.MaxConcurrentJobs" must be an integer from 1 to 16')

    loopback = section.get("LoopbackHttp", "auto")
    if loopback not in (True, False, "auto"):
        raise ConfigError(f'"{SECTION}.LoopbackHttp" must be "auto", true or false')
    if loopback == "auto":
        # Plugin >= 4.3 with "AllowThreads" releases the GIL during SDK calls,
        # which is what loopback was for; the SDK then saves a copy of every
        # instance through a socket and needs no HTTP thread.
        loopback = not _sdk_releases_gil(orthanc_config)
    # Loopback HTTP needs plain HTTP on a known port; with TLS the SDK is used.
    use_loopback = loopback and not orthanc_config.get("SslEnabled", False)
    port = orthanc_config.get("HttpPort", 8042)
    http_threads = orthanc_config.get("HttpThreadsCount", DEFAULT_HTTP_THREADS)
    if not isinstance(http_threads, int) or isinstance(http_threads, bool) or http_threads < 1:
        http_threads = DEFAULT_HTTP_THREADS

    storage = orthanc_config.get("StorageDirectory", "OrthancStorage")
    try:
        database = parse_location(
            section.get("MappingDatabase"),
            orthanc_config.get("PostgreSQL"),
            config_directory / str(storage) / MAPPING_FILE_NAME,
            config_directory,
        )
    except ValueError as error:
        raise ConfigError(f'"{SECTION}.MappingDatabase" {error}') from None
    node = orthanc_config.get("DatabaseServerIdentifier", DEFAULT_NODE)

    try:
        presets = parse_presets(section.get("Presets", {}))
    except PresetError as error:
        raise ConfigError(f'"{SECTION}.Presets": {error}') from None

    provenance = _parse_provenance(section.get("ProvenanceMetadata", DEFAULT_METADATA))
    return PluginConfig(
        uid_strategy=strategy,
        uid_root=uid_root,
        secret=secret if isinstance(secret, str) else None,
        mapping_database=database,
        allow_mapping_export=allow_export,
        max_concurrent_jobs=jobs,
        loopback_port=int(port) if use_loopback and isinstance(port, int) else None,
        http_threads=http_threads,
        safe_private_tags=_parse_safe_private_tags(section.get("SafePrivateTags", [])),
        presets=presets,
        provenance_metadata=provenance,
        provenance_name=_declared_name(orthanc_config, provenance),
        node=node if isinstance(node, str) and node else DEFAULT_NODE,
    )


def _parse_provenance(value: object) -> int | None:
    """A user metadata index, or false for no provenance."""
    if value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and FIRST_USER_METADATA <= value <= LAST_METADATA:
        return value
    raise ConfigError(
        f'"{SECTION}.ProvenanceMetadata" must be a user metadata index from {FIRST_USER_METADATA} to '
        f"{LAST_METADATA} (Orthanc reserves the lower ones), or false"
    )


def _declared_name(orthanc_config: dict[str, object], index: int | None) -> str | None:
    declared = orthanc_config.get("UserMetadata")
    if index is None or not isinstance(declared, dict):
        return None
    return next((str(name) for name, number in declared.items() if number == index), None)


def _parse_safe_private_tags(value: object) -> tuple[PrivateAttribute, ...]:
    """The site's safe private attributes, each {"Creator": ..., "Element": "gggg,xxee"}."""
    option = f'"{SECTION}.SafePrivateTags"'
    if not isinstance(value, list):
        raise ConfigError(f"{option} must be a list of private attributes such as {PRIVATE_ATTRIBUTE_EXAMPLE}")
    attributes: list[PrivateAttribute] = []
    for index, entry in enumerate(value):
        try:
            attribute = parse_private_attribute(entry)
        except ValueError as error:
            raise ConfigError(f"{option}[{index}]: {error}") from None
        if attribute in attributes:
            raise ConfigError(f"{option}[{index}]: {attribute} is listed twice")
        attributes.append(attribute)
    return tuple(attributes)


def _sdk_releases_gil(orthanc_config: dict[str, object]) -> bool:
    python = orthanc_config.get("Python")
    return isinstance(python, dict) and python.get("AllowThreads") is True


def config_directory(configuration_path: str) -> Path:
    """Orthanc may be started with a file or a directory of files."""
    path = Path(configuration_path or ".").resolve()
    return path if path.is_dir() else path.parent


def load_config(orthanc_module: object) -> PluginConfig:
    raw = json.loads(orthanc_module.GetConfiguration())  # type: ignore[attr-defined]
    return parse_config(raw, config_directory(orthanc_module.GetConfigurationPath()))  # type: ignore[attr-defined]
