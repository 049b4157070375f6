"""The "AnonConsistent" section: transport choice and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from anon_consistent.adapter.config import DEFAULT_HTTP_THREADS, ConfigError, parse_config


def test_loopback_by_default_on_the_configured_port_and_threads() -> None:
    config = parse_config({"HttpPort": 8050, "HttpThreadsCount": 4}, Path("/etc/orthanc"))
    assert config.loopback_port == 8050 and config.http_threads == 4
    assert parse_config({}, Path("/")).http_threads == DEFAULT_HTTP_THREADS


def test_auto_prefers_the_sdk_when_the_python_plugin_releases_the_gil() -> None:
    config = parse_config({"Python": {"AllowThreads": True}}, Path("/"))
    assert config.loopback_port is None
    forced = parse_config({"Python": {"AllowThreads": True}, "AnonConsistent": {"LoopbackHttp": True}}, Path("/"))
    assert forced.loopback_port == 8042


@pytest.mark.parametrize(
    ("orthanc", "loopback"),
    [({"SslEnabled": True}, None), ({"AnonConsistent": {"LoopbackHttp": False}}, None)],
)
def test_tls_or_false_means_the_sdk(orthanc: dict[str, object], loopback: None) -> None:
    assert parse_config(orthanc, Path("/")).loopback_port is loopback


def test_bad_loopback_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match="LoopbackHttp"):
        parse_config({"AnonConsistent": {"LoopbackHttp": "sometimes"}}, Path("/"))


def test_presets_are_validated_at_start_up() -> None:
    presets = {"pet-suv": {"Description": "PET", "Keep": ["PatientWeight"]}}
    config = parse_config({"AnonConsistent": {"Presets": presets}}, Path("/"))
    assert config.presets["pet-suv"].body == {"Keep": ["PatientWeight"]}
    assert parse_config({}, Path("/")).presets == {}
    with pytest.raises(ConfigError, match=r'"AnonConsistent.Presets": preset "broken": "Keep": Unknown DICOM tag'):
        parse_config({"AnonConsistent": {"Presets": {**presets, "broken": {"Keep": ["Nope"]}}}}, Path("/"))
    with pytest.raises(ConfigError, match=r'"AnonConsistent.Presets": expected a JSON object'):
        parse_config({"AnonConsistent": {"Presets": ["pet-suv"]}}, Path("/"))


def test_provenance_is_recorded_in_4201_by_default_and_named_from_user_metadata() -> None:
    plain = parse_config({}, Path("/etc/orthanc"))
    assert plain.provenance_metadata == 4201 and plain.provenance_name is None
    named = parse_config({"UserMetadata": {"AnonConsistentFrom": 4201}}, Path("/etc/orthanc"))
    assert named.provenance_name == "AnonConsistentFrom"
    other = parse_config({"AnonConsistent": {"ProvenanceMetadata": 1030}}, Path("/etc/orthanc"))
    assert other.provenance_metadata == 1030 and other.provenance_name is None
    off = parse_config({"AnonConsistent": {"ProvenanceMetadata": False}}, Path("/etc/orthanc"))
    assert off.provenance_metadata is None


@pytest.mark.parametrize("value", [6, 1023, 65536, True, "4201", None])
def test_a_system_or_impossible_metadata_index_is_refused(value: object) -> None:
    # Below 1024 Orthanc refuses the write (403): the plugin must not start and fail every call.
    with pytest.raises(ConfigError, match="ProvenanceMetadata"):
        parse_config({"AnonConsistent": {"ProvenanceMetadata": value}}, Path("/etc/orthanc"))
