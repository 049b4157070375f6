"""Bulk requests: their body, and the instances they name, each once."""

from __future__ import annotations

import json

import pytest

from anon_consistent.bulk import instances_of_all, parse_bulk_request
from anon_consistent.options import OptionsError
from anon_consistent.results import Level

STUDY = "0946fcb6-cf12ab43-bad958c1-bf057ad5-0fc6f54c"
INSTANCE = "1b2ab6fb-6a4d1a5f-3d0a26b3-2b7b7e33-9e8c7f0a"


def test_resources_are_split_from_the_options() -> None:
    bulk = parse_bulk_request(json.dumps({"Resources": [STUDY], "Keep": ["StudyDescription"], "Level": "Study"}))
    assert bulk.resources == [STUDY]
    assert json.loads(bulk.options_body) == {"Keep": ["StudyDescription"]}


@pytest.mark.parametrize(
    "body",
    [None, "", "{}", '{"Resources": "x"}', '{"Resources": [1]}', '{"Resources": ["../instances"]}', "[]"],
)
def test_a_body_without_a_list_of_orthanc_ids_is_refused(body: str | None) -> None:
    with pytest.raises(OptionsError, match=r"Resources|JSON object"):
        parse_bulk_request(body)


@pytest.mark.parametrize("level", ["Study", "patients", 3])
def test_level_is_ignored_as_native_ignores_it(level: object) -> None:
    assert json.loads(parse_bulk_request(json.dumps({"Resources": [], "Level": level})).options_body) == {}


def test_a_resource_named_many_times_is_looked_up_once() -> None:
    assert parse_bulk_request(json.dumps({"Resources": [STUDY, INSTANCE, STUDY] * 1000})).resources == [
        STUDY,
        INSTANCE,
    ]


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(OptionsError, match=r"twice|duplicate|Duplicate"):
        parse_bulk_request('{"Resources": [], "Resources": []}')


def test_an_instance_named_twice_is_anonymized_once() -> None:
    tree = {STUDY: ["a", "b", "c"], INSTANCE: ["b"]}
    levels = {STUDY: Level.STUDY, INSTANCE: Level.INSTANCE}
    found = instances_of_all([INSTANCE, STUDY, INSTANCE], levels.__getitem__, lambda level, rid: tree[rid])
    assert found == ["b", "a", "c"]
