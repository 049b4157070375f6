"""Presets: named sets of request options configured by the site.

A request names one with ``"Preset": "pet-suv"``; its own values are added to
the preset's before the usual option parsing (``parse_options``), so a preset
can do nothing that a request body could not do:

* lists (``Keep``, ``Remove``, ``Options``) are concatenated without duplicates;
* objects (``Replace``) are merged, the body winning per tag;
* anything else (booleans, ``Project``, ``Priority``...) is the body's if it has one.

Where the preset and the body disagree, the body decides, so that adding to a
preset never makes a request contradict itself: a tag the body keeps, removes or
replaces leaves the preset's lists, and a date option of the body replaces the
preset's other date option (the two cannot be combined).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .options import PROJECT_NAME, AnonymizationOptions, OptionsError, parse_options
from .ps315_options import ALIASES, FULL_DATES, MODIFIED_DATES
from .request_body import BodyRefused, check_body, load_body
from .tag_paths import TagPath, parse_tag_reference

PRESET_NAME = PROJECT_NAME
PRESET_KEY = "Preset"
# Strict JSON has no comments: a preset explains itself in this key, which
# GET /anon-consistent and the Explorer show.
DESCRIPTION_KEY = "Description"

# A preset decides what the output keeps; these stay the decision of each call.
CALLER_ONLY = {
    PRESET_KEY: "a preset cannot name another preset",
    "KeepSource": "deleting the source instances must be asked for in each request",
    "Force": "it confirms, in each request, that Study/Series/SOP Instance UIDs are kept or replaced",
    "Asynchronous": "the caller chooses how its call is answered",
    "Synchronous": "the caller chooses how its call is answered",
}

_TAG_LISTS = ("Keep", "Remove")
_OPTIONS = "Options"
_EXCLUDES = {FULL_DATES: MODIFIED_DATES, MODIFIED_DATES: FULL_DATES}


class PresetError(ValueError):
    """A configured preset cannot be used (the plugin does not start)."""


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    body: dict[str, Any]  # request options, as a request body would carry them

    def as_json(self) -> dict[str, Any]:
        """As configured, for GET /anon-consistent."""
        return {DESCRIPTION_KEY: self.description, **self.body} if self.description else dict(self.body)


@dataclass(frozen=True)
class ResolvedRequest:
    """The options of one request, and the body they were read from once its preset was added."""

    options: AnonymizationOptions
    preset: str | None = None
    resolved_body: dict[str, Any] | None = None  # None when no preset was named


def parse_presets(value: object) -> dict[str, Preset]:
    """Validate the configured presets: each must be a valid request body on its own."""
    if not isinstance(value, dict):
        raise PresetError("expected a JSON object mapping preset names to request options")
    presets: dict[str, Preset] = {}
    for name, content in value.items():
        if not PRESET_NAME.fullmatch(name):
            raise PresetError(
                f'preset name {json.dumps(name)} must be 1-64 characters among letters, digits, ".", "_" and "-"'
            )
        if not isinstance(content, dict):
            raise PresetError(f'preset "{name}" must be a JSON object of request options')
        body = dict(content)
        description = body.pop(DESCRIPTION_KEY, "")
        if not isinstance(description, str):
            raise PresetError(f'preset "{name}": "{DESCRIPTION_KEY}" must be a string')
        for key, reason in CALLER_ONLY.items():
            if key in body:
                raise PresetError(f'preset "{name}" cannot set "{key}": {reason}')
        try:
            parse_options(json.dumps(body))
        except OptionsError as error:
            raise PresetError(f'preset "{name}": {error}') from None
        presets[name] = Preset(name=name, description=description, body=body)
    return presets


def parse_request(body: bytes | str | None, presets: Mapping[str, Preset]) -> ResolvedRequest:
    """``parse_options`` of ``body``, after adding it to the preset it names (OptionsError: HTTP 400)."""
    document = _document(body)
    if document is None or PRESET_KEY not in document:
        return ResolvedRequest(parse_options(body))  # errors as without presets
    name = document.pop(PRESET_KEY)
    preset = presets.get(name) if isinstance(name, str) else None
    if preset is None:
        shown = json.dumps(name, ensure_ascii=False)[:80]
        if not presets:
            raise OptionsError(f'Unknown preset {shown}: no preset is configured ("AnonConsistent.Presets")')
        known = ", ".join(json.dumps(n) for n in sorted(presets))
        raise OptionsError(f"Unknown preset {shown}: the known presets are {known}")
    resolved = merge(preset.body, document)
    try:
        options = parse_options(json.dumps(resolved))
    except OptionsError as error:
        raise OptionsError(f'{error} (in the request added to preset "{preset.name}")') from None
    return ResolvedRequest(options, preset.name, resolved)


def merge(preset: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's values added to the preset's (see the module's documentation)."""
    merged = _without_what_the_body_decides(preset, body)
    for key, value in body.items():
        ours = merged.get(key)
        if isinstance(value, list) and isinstance(ours, list):
            merged[key] = _union(ours, value, _option_key if key == _OPTIONS else _tag_key)
        elif isinstance(value, dict) and isinstance(ours, dict):
            merged[key] = {**ours, **value}
        else:
            merged[key] = value
    return merged


def _without_what_the_body_decides(preset: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the preset without the tags and options on which the body has its own say."""
    named = {_tag_key(item) for key in _TAG_LISTS for item in _list(body.get(key))}
    replace = body.get("Replace")
    named |= {_tag_key(key) for key in (replace if isinstance(replace, dict) else {})}
    refused = {_EXCLUDES[o] for o in _chosen_options(body) if o in _EXCLUDES}
    refused |= {option for alias, option in ALIASES.items() if body.get(alias) is False}

    merged = dict(preset)
    for key in _TAG_LISTS:
        if isinstance(merged.get(key), list):
            merged[key] = [item for item in merged[key] if _tag_key(item) not in named]
    if isinstance(merged.get("Replace"), dict):
        merged["Replace"] = {k: v for k, v in merged["Replace"].items() if _tag_key(k) not in named}
    if isinstance(merged.get(_OPTIONS), list):
        merged[_OPTIONS] = [option for option in merged[_OPTIONS] if option not in refused]
    for alias, option in ALIASES.items():
        if option in refused and alias not in body and merged.get(alias) is True:
            del merged[alias]
    return merged


def _chosen_options(body: Mapping[str, Any]) -> set[str]:
    chosen = {option for option in _list(body.get(_OPTIONS)) if isinstance(option, str)}
    return chosen | {option for alias, option in ALIASES.items() if body.get(alias) is True}


def _union(first: list[Any], second: list[Any], key: Any) -> list[Any]:
    seen: set[object] = set()
    union = []
    for item in [*first, *second]:
        identity = key(item)
        if identity not in seen:
            seen.add(identity)
            union.append(item)
    return union


def _tag_key(item: object) -> object:
    """One key per tag or sequence path however it is written ("PatientWeight", "0010-1030"...); others as JSON."""
    if isinstance(item, str):
        try:
            target = parse_tag_reference(item)
            return target if isinstance(target, TagPath) else int(target)
        except OptionsError:
            return item  # parse_options reports it
    return json.dumps(item, sort_keys=True)


def _option_key(item: object) -> object:
    return item if isinstance(item, str) else json.dumps(item, sort_keys=True)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _document(body: bytes | str | None) -> dict[str, Any] | None:
    """The body as a JSON object, or None when parse_options should see (and judge) it as is."""
    if body is None or not body.strip():
        return None
    try:
        check_body(body)
        document = load_body(body)  # a repeated key too: parse_options says which
    except (BodyRefused, ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None
