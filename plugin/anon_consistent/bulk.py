"""A bulk call: resources of any level anonymized as one call, as native ``/tools/bulk-anonymize``.

One call means one project session and one lock set: everything it names is
consistent with itself and with earlier calls of the project. Each instance
is anonymized once, even when the request names it twice (a study and one of
its instances), where native anonymizes it twice and fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .options import OptionsError, load_object
from .results import ORTHANC_ID, Level

RESOURCES = "Resources"
# Native's bulk route ignores "Level" when it anonymizes (bulk-modify reads it):
# a body copied from a bulk-modify script keeps working.
_LEVEL = "Level"


@dataclass(frozen=True)
class BulkRequest:
    resources: list[str]
    # The body without what only bulk calls have, for the usual option parsing.
    options_body: str


def parse_bulk_request(body: bytes | str | None) -> BulkRequest:
    """Split a bulk body into its resources and the usual options (OptionsError: HTTP 400)."""
    if body is None or not body.strip():
        raise OptionsError(f'A bulk call needs a JSON body with "{RESOURCES}": a list of Orthanc IDs')
    document = load_object(body)
    resources = document.pop(RESOURCES, None)
    if not isinstance(resources, list) or not all(_is_orthanc_id(item) for item in resources):
        raise OptionsError(
            f'"{RESOURCES}" must be a list of Orthanc IDs (patients, studies, series or instances), '
            'each like "0946fcb6-cf12ab43-bad958c1-bf057ad5-0fc6f54c"'
        )
    document.pop(_LEVEL, None)
    # Each resource once: its level and instances are looked up before the call starts.
    return BulkRequest(list(dict.fromkeys(resources)), json.dumps(document))


def _is_orthanc_id(item: object) -> bool:
    return isinstance(item, str) and ORTHANC_ID.fullmatch(item) is not None


def instances_of_all(
    resources: list[str], level_of: Callable[[str], Level], instances_of: Callable[[Level, str], list[str]]
) -> list[str]:
    """Every instance below the resources, in order, each once (LookupError names an unknown resource)."""
    found: dict[str, None] = {}
    for resource_id in resources:
        level = level_of(resource_id)
        found.update(dict.fromkeys(instances_of(level, resource_id)))
    return list(found)
