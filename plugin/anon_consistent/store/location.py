"""Where the mapping database is, from the "MappingDatabase" setting, and how to open it.

The location holds a PostgreSQL password when one is configured: it is kept out
of ``repr`` and ``describe``, which are all that logs and errors ever see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .database import Database

URI_SCHEMES = ("postgresql://", "postgres://")
# The keys of Orthanc's own "PostgreSQL" section that say where the database is.
ORTHANC_KEYS = ("Host", "Port", "Database", "Username", "Password", "EnableSsl", "ConnectionUri")
EXAMPLE = '"postgresql://user@host:5432/dbname", {"PostgreSQL": true} or a file path'


@dataclass(frozen=True)
class StoreLocation:
    """A SQLite file (``path``) or a PostgreSQL database (``conninfo``)."""

    path: Path | None = None
    conninfo: str | None = field(default=None, repr=False)
    description: str = ""

    @property
    def shared(self) -> bool:
        """Whether several Orthanc nodes may use this database."""
        return self.conninfo is not None

    def describe(self) -> str:
        return self.description or str(self.path)


def parse_location(
    value: object, orthanc_postgresql: object, default_path: Path, config_directory: Path
) -> StoreLocation:
    """The location a "MappingDatabase" value names; ValueError says what is wrong and never quotes a password.

    ``orthanc_postgresql`` is Orthanc's own "PostgreSQL" section, used by
    ``{"PostgreSQL": true}``; relative paths are relative to the
    configuration, as in Orthanc.
    """
    if value is None:
        return StoreLocation(path=default_path)
    if isinstance(value, str) and value.startswith(URI_SCHEMES):
        return _from_uri(value)
    if isinstance(value, str) and value:
        return StoreLocation(path=config_directory / value)
    if isinstance(value, dict) and set(value) == {"PostgreSQL"}:
        if value["PostgreSQL"] is True and not isinstance(orthanc_postgresql, dict):
            raise ValueError('{"PostgreSQL": true} takes Orthanc\'s "PostgreSQL" section, which is not configured')
        section = orthanc_postgresql if value["PostgreSQL"] is True else value["PostgreSQL"]
        if not isinstance(section, dict):
            raise ValueError('"PostgreSQL" must be true or an object with Orthanc\'s PostgreSQL keys')
        return _from_orthanc_section(section)
    raise ValueError(f"must be {EXAMPLE}")


def _from_uri(uri: str) -> StoreLocation:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise ValueError(f"is not a valid PostgreSQL URI (expected {URI_SCHEMES[0]}user@host:port/dbname)") from None
    user = f"{parts.username}@" if parts.username else ""
    where = f"{parts.hostname or 'localhost'}{f':{port}' if port else ''}"
    return StoreLocation(conninfo=uri, description=f"postgresql://{user}{where}{parts.path}")


def _from_orthanc_section(section: dict[str, object]) -> StoreLocation:
    if isinstance(section.get("ConnectionUri"), str):
        return _from_uri(str(section["ConnectionUri"]))
    not_text = [
        key for key in ("Host", "Database", "Username", "Password") if not isinstance(section.get(key, ""), str)
    ]
    port = section.get("Port", 5432)
    if not_text or not isinstance(port, int) or isinstance(port, bool):
        raise ValueError("Host, Database, Username and Password must be strings and Port an integer")
    settings = {
        "host": str(section.get("Host", "localhost")),
        "port": str(port),
        "dbname": str(section.get("Database", "")),
        "user": str(section.get("Username", "")),
        "password": str(section.get("Password", "")),
    }
    if section.get("EnableSsl") is True:
        settings["sslmode"] = "require"
    conninfo = " ".join(f"{key}={_quoted(text)}" for key, text in settings.items() if text)
    user = f"{settings['user']}@" if settings["user"] else ""
    description = f"postgresql://{user}{settings['host']}:{port}/{settings['dbname']}"
    return StoreLocation(conninfo=conninfo, description=description)


def _quoted(text: str) -> str:
    """A libpq conninfo value: single-quoted, with quotes and backslashes escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def open_database(location: StoreLocation | str | Path) -> Database:
    """Open (and create or upgrade) the database at ``location``: a location, a URI or a SQLite path."""
    if isinstance(location, str) and location.startswith(URI_SCHEMES):
        location = _from_uri(location)
    if not isinstance(location, StoreLocation):
        location = StoreLocation(
            path=Path(location) if str(location) != ":memory:" else None, description=str(location)
        )
    if location.conninfo is not None:
        from .postgresql import PostgresDatabase

        return PostgresDatabase(location.conninfo, location.describe())
    from .sqlite import SqliteDatabase

    return SqliteDatabase(location.path if location.path is not None else ":memory:")
