"""A cheap, non-recursive check of a raw request body before any JSON parser sees it.

Python's ``json`` module recurses once per nesting level. In Orthanc's HTTP
threads (small C stacks) about 500 levels of ``[`` exhaust the C stack before
Python's own recursion limit fires, and Orthanc dies with SIGSEGV: a 1 KB body
was enough. So every body is scanned first with a regular expression (the
``re`` engine keeps its state on the heap, not on the C stack) and refused if
it is too large or nested too deep.
"""

from __future__ import annotations

import json
import re

# No option of this plugin needs more than three levels ({"Replace": {...}})
# nor more than a few kilobytes; the limits leave ample room for future routes.
MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32

# A JSON string (escapes skipped; an unterminated one runs to the end of the
# body, where json.loads fails anyway) or a bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class BodyRefused(ValueError):
    """The body is too large or nested too deep to be parsed safely (HTTP 400)."""


def check_body(body: bytes | bytearray | str | None) -> None:
    """Raise BodyRefused if ``body`` exceeds MAX_BODY_BYTES or nests arrays/objects beyond MAX_DEPTH."""
    if not body:
        return
    size = len(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else len(body)
    if size > MAX_BODY_BYTES:
        raise BodyRefused(f"The request body has {size} bytes; at most {MAX_BODY_BYTES} are accepted")
    if isinstance(body, str):
        text = body
    else:
        # Scan the characters json.loads will see: in UTF-16 a quote or bracket
        # byte can be half of another character.
        try:
            text = bytes(body).decode(json.detect_encoding(body), "surrogatepass")
        except UnicodeDecodeError:
            return  # json.loads fails the same way, before parsing anything
    depth = 0
    for token in _TOKEN.finditer(text):
        first = text[token.start()]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise BodyRefused(f"The request body nests JSON arrays or objects more than {MAX_DEPTH} levels deep")
        elif first != '"' and depth:
            depth -= 1  # never below 0: an unbalanced closer is invalid JSON, reported by json.loads


class DuplicateKey(ValueError):
    """A JSON object of the body repeats a key (HTTP 400): json.loads would silently keep the last one."""

    def __init__(self, key: str) -> None:
        shown = json.dumps(key if len(key) <= 80 else key[:80] + "...", ensure_ascii=False)
        super().__init__(f"The request body names {shown} twice in one JSON object: give each key once")
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document: dict[str, object] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKey(key)
        document[key] = value
    return document


def load_body(body: bytes | bytearray | str) -> object:
    """``json.loads`` that refuses a repeated key at any depth (DuplicateKey).

    ``{"Options": ["RetainUIDs"], "Options": []}`` would otherwise mean the
    last value, silently: the caller meant something, and cannot tell which.
    """
    return json.loads(body, object_pairs_hook=_unique_keys)
