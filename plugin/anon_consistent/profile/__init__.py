"""The PS3.15 Table E.1-1 confidentiality profile, loaded from versioned data.

The table lives in ``ps315_table_e1_1.json`` next to this module, with the
edition it was extracted from and how it was produced. Code never hard-codes
an attribute's action: a new edition is a data change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("ps315_table_e1_1.json")

BASIC_ACTIONS = frozenset({"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"})
# An option column either says nothing (the Basic Profile action stands) or overrides it.
# Retain options keep (K) or keep cleaned (C); Clean options only clean.
RETAIN_ACTIONS = frozenset({"", "K", "C"})
CLEAN_ACTIONS = frozenset({"", "C"})
OPTION_ACTIONS: dict[str, frozenset[str]] = {
    "rtn_safe_priv": RETAIN_ACTIONS,
    "rtn_uids": RETAIN_ACTIONS,
    "rtn_dev_id": RETAIN_ACTIONS,
    "rtn_inst_id": RETAIN_ACTIONS,
    "rtn_pat_chars": RETAIN_ACTIONS,
    "rtn_long_full_dates": RETAIN_ACTIONS,
    "rtn_long_modif_dates": RETAIN_ACTIONS,
    "clean_desc": CLEAN_ACTIONS,
    "clean_struct_cont": CLEAN_ACTIONS,
    "clean_graph": CLEAN_ACTIONS,
}


@dataclass(frozen=True)
class ProfileRow:
    """One attribute of Table E.1-1: the Basic Profile action and each option's action ('' = none)."""

    tag: str
    name: str
    keyword: str
    basic: str
    rtn_long_modif_dates: str = ""
    rtn_safe_priv: str = ""
    rtn_uids: str = ""
    rtn_dev_id: str = ""
    rtn_inst_id: str = ""
    rtn_pat_chars: str = ""
    rtn_long_full_dates: str = ""
    clean_desc: str = ""
    clean_struct_cont: str = ""
    clean_graph: str = ""
    retired: bool = False
    in_std_comp_iod: bool = False

    def option(self, column: str) -> str:
        """The action of option ``column`` (a key of OPTION_ACTIONS), '' when the option says nothing."""
        if column not in OPTION_ACTIONS:
            raise KeyError(column)
        return str(getattr(self, column))


@dataclass(frozen=True)
class ConfidentialityProfile:
    """Lookup of Table E.1-1 rows by tag, repeating groups included.

    ``private`` is the table's row for all Private Attributes ('(gggg,eeee) where gggg is odd'),
    which has no tag of its own and so is not returned by ``lookup``.
    """

    edition: str
    rows: tuple[ProfileRow, ...]
    private: ProfileRow | None = field(default=None)

    def __post_init__(self) -> None:
        exact: dict[int, ProfileRow] = {}
        masked: list[tuple[int, int, ProfileRow]] = []
        for row in self.rows:
            if "x" in row.tag:
                mask = int("".join("0" if c == "x" else "F" for c in row.tag), 16)
                value = int(row.tag.replace("x", "0"), 16)
                masked.append((mask, value, row))
            else:
                exact[int(row.tag, 16)] = row
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_masked", tuple(masked))

    def lookup(self, tag: int) -> ProfileRow | None:
        """Return the row that governs ``tag``, or None if the table does not list it."""
        row = self._exact.get(tag)  # type: ignore[attr-defined]
        if row is not None:
            return row
        for mask, value, masked_row in self._masked:  # type: ignore[attr-defined]
            if tag & mask == value:
                return masked_row
        return None


def _parse_row(entry: dict[str, object]) -> ProfileRow:
    tag = str(entry["tag"])
    basic = entry["basic"]
    if basic not in BASIC_ACTIONS:
        raise ValueError(f"unknown Basic Profile action {basic!r} for {tag}")
    options: dict[str, str] = {}
    for column, allowed in OPTION_ACTIONS.items():
        # Older documents carry fewer option columns: a missing column means the option says nothing.
        action = entry.get(column, "")
        if action not in allowed:
            raise ValueError(f"unknown {column} action {action!r} for {tag}")
        options[column] = str(action)
    flags = {key: entry.get(key, False) for key in ("retired", "in_std_comp_iod")}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise ValueError(f"{key} of {tag} must be true or false, not {flag!r}")
    return ProfileRow(
        tag=tag,
        name=str(entry["name"]),
        keyword=str(entry.get("keyword", "")),
        basic=str(basic),
        retired=bool(flags["retired"]),
        in_std_comp_iod=bool(flags["in_std_comp_iod"]),
        **options,
    )


def parse_profile(document: dict[str, object]) -> ConfidentialityProfile:
    """Build a profile from the JSON document, rejecting unknown action codes in any column."""
    rows = tuple(_parse_row(entry) for entry in document["attributes"])  # type: ignore[attr-defined]
    private_entry = document.get("private_attributes")
    private = _parse_row(private_entry) if isinstance(private_entry, dict) else None
    return ConfidentialityProfile(edition=str(document["edition"]), rows=rows, private=private)


@lru_cache(maxsize=1)
def load_basic_profile() -> ConfidentialityProfile:
    """The profile shipped with the plugin."""
    with TABLE_PATH.open(encoding="utf-8") as handle:
        return parse_profile(json.load(handle))
