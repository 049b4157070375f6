"""The "MappingDatabase" setting: a file, a PostgreSQL URI, or Orthanc's own PostgreSQL section."""

from __future__ import annotations

from pathlib import Path

import pytest

from anon_consistent.store.location import StoreLocation, parse_location

DEFAULT = Path("/var/lib/orthanc/db/anon-consistent-mapping.sqlite")
HERE = Path("/etc/orthanc")


def parse(value: object, orthanc_section: object = None) -> StoreLocation:
    return parse_location(value, orthanc_section, DEFAULT, HERE)


def test_sqlite_default_and_relative_paths() -> None:
    assert parse(None) == StoreLocation(path=DEFAULT)
    assert parse("mapping.sqlite").path == HERE / "mapping.sqlite"
    assert not parse(None).shared


def test_a_uri_is_kept_whole_for_libpq_but_described_without_its_password() -> None:
    location = parse("postgresql://anon:s3cret-pw@db.example:5433/orthanc?sslmode=require")
    assert location.shared and location.conninfo is not None and "s3cret-pw" in location.conninfo
    assert location.describe() == "postgresql://anon@db.example:5433/orthanc"
    assert "s3cret-pw" not in repr(location) and "s3cret-pw" not in str(location)


def test_orthanc_postgresql_section_is_reused() -> None:
    orthanc = {
        "EnableIndex": True,
        "Host": "db",
        "Port": 5433,
        "Database": "orthanc",
        "Username": "o",
        "Password": "p'w",
    }
    location = parse({"PostgreSQL": True}, orthanc)
    assert location.conninfo == "host='db' port='5433' dbname='orthanc' user='o' password='p\\'w'"
    assert location.describe() == "postgresql://o@db:5433/orthanc" and "p'w" not in repr(location)
    assert parse({"PostgreSQL": {"ConnectionUri": "postgresql://u:pw@h/d"}}).describe() == "postgresql://u@h/d"
    assert "sslmode='require'" in str(parse({"PostgreSQL": {"Host": "h", "EnableSsl": True}}).conninfo)


@pytest.mark.parametrize(
    ("value", "section", "message"),
    [
        ("", None, "must be"),
        (42, None, "must be"),
        ({"PostgreSQL": True}, None, "not configured"),
        ({"PostgreSQL": "yes"}, None, "must be true or an object"),
        ({"PostgreSQL": {"Port": "5432"}}, None, "Port an integer"),
        ({"PostgreSQL": True, "Other": 1}, {}, "must be"),
        ("postgresql://u:pw@host:notaport/db", None, "not a valid PostgreSQL URI"),
    ],
)
def test_bad_values_are_refused_without_quoting_a_password(value: object, section: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        parse(value, section)
    assert "pw" not in str(refused.value)
