"""The walk over a dataset and one small handler per action of the plan.

Only elements whose action is not KEEP are converted from pydicom's raw form;
everything else, pixel data included, stays raw and is copied back byte for
byte by the encoder. That keeps the cost of an instance proportional to what
changes, not to its size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from .dates import shift_da, shift_dt
from .errors import ElementError, element_name
from .integrity import check_last_element
from .plan import Action, ElementPlan, Scope
from .session import MappingSession
from .uid_policy import is_registry_uid, keeps_uid_attribute
from .uids import is_valid_uid
from .vr import BINARY_NUMBER_VRS, NUMBER_TYPE_BY_VR

DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR: dict[str, object] = {
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "DS": "0",
    "IS": "0",
    "CS": DUMMY_TEXT,
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "OB": b"\x00\x00",
    "OW": b"\x00\x00",
    "UN": b"\x00\x00",
}
_ITEM_TAG_LITTLE_ENDIAN = b"\xfe\xff\x00\xe0"
_MAX_SCANNED_PRIVATE_TEXT = 1024
_SCANNED_TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UT", "UC", "CS", "DA", "DT"})
_DATE_SHAPE = re.compile(r"^(19|20)\d{6}(\d{6}(\.\d{1,6})?([+-]\d{4})?)?$")


@dataclass
class WalkContext:
    plan: ElementPlan
    session: MappingSession
    patient_id: str  # the original one: pseudonym and date offset are keyed by it

    def date_offset_days(self) -> int:
        return self.session.date_offset_days(self.patient_id)


Handler = Callable[[Dataset, BaseTag, str, WalkContext, Scope], None]


def walk(dataset: Dataset, context: WalkContext, scope: Scope = Scope.NORMAL) -> None:
    """Apply the plan to every element of ``dataset``, recursing into sequences.

    An error names the element it happened in (and, from nested sequences,
    the path to it), never its value.
    """
    elements = dataset._dict
    plan = context.plan
    for tag in list(elements):
        element = elements[tag]
        action, vr = plan.resolve(tag, element.VR, scope)
        if action is not Action.KEEP:
            try:
                _HANDLERS[action](dataset, tag, vr, context, scope)
            except ElementError as error:
                raise error.inside(element_name(tag)) from error.__cause__
            except Exception as error:  # pydicom raises many types on malformed values
                raise ElementError(element_name(tag), value_problem(element.VR, vr, error)) from error


def value_problem(read_vr: str | None, vr: str, error: Exception) -> str:
    """Why a value could not be processed, without the value."""
    kind = type(error).__name__
    if read_vr and read_vr not in (vr, "UN") and vr != "UN":
        return f"is encoded with VR {read_vr} where {vr} is expected: its value cannot be processed ({kind})"
    return f"has a {vr} value that cannot be processed ({kind})"


def uid_values(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def replacement_value(vr: str, text: str) -> object:
    """A Replace value in the form pydicom encodes for ``vr``."""
    if vr in BINARY_NUMBER_VRS and text:
        numbers = [NUMBER_TYPE_BY_VR[vr](part) for part in text.split("\\")]
        return numbers[0] if len(numbers) == 1 else numbers
    return text


def _remove(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    del dataset._dict[tag]


def _empty(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    dataset[tag] = DataElement(tag, vr, Sequence() if vr == "SQ" else None)


def _dummy(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    dataset[tag] = DataElement(tag, vr, _DUMMY_BY_VR.get(vr, DUMMY_TEXT))


def _replace(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    dataset[tag] = DataElement(tag, vr, replacement_value(vr, context.plan.options.replace[tag]))


def _remap_uid(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    element = dataset[tag]
    values = uid_values(element.value)
    if not values:
        return
    session, options = context.session, context.plan.options
    # Pinned values (Keep/Replace) win over everything, class UIDs included.
    kept_as_is = tag in options.keep or (keeps_uid_attribute(tag) and tag not in options.replace)
    new = []
    for value in values:
        pinned = session.pinned(value)
        if pinned is not None:
            new.append(pinned)
        elif value == "" or kept_as_is or is_registry_uid(value):
            new.append(value)
        else:
            new.append(session.uid(value))
    if new != values:
        element.value = new[0] if len(new) == 1 else new


def _shift_date(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    element = dataset[tag]
    if not element.value:
        return
    shift = shift_da if vr == "DA" else shift_dt
    days = context.date_offset_days()
    values = [element.value] if isinstance(element.value, str) else list(element.value)
    shifted = [shift(str(v), days) for v in values]
    element.value = shifted[0] if len(shifted) == 1 else shifted


def _walk_items(dataset: Dataset, tag: BaseTag, context: WalkContext, scope: Scope) -> None:
    for index, item in enumerate(dataset[tag].value or (), 1):
        try:
            # A nested element running past the end of its sequence's value
            # comes back short, like the last element of a truncated file.
            check_last_element(item)
            walk(item, context, scope)
        except ElementError as error:
            raise error.inside(f"item {index}") from error.__cause__


def _recurse(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    # A sequence nested in a coded concept is no longer the concept itself.
    _walk_items(dataset, tag, context, Scope.CLEANED if scope is Scope.CONCEPT else scope)


def _recurse_cleaned(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    _walk_items(dataset, tag, context, Scope.CLEANED)


def _recurse_concept(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    _walk_items(dataset, tag, context, Scope.CONCEPT)


def _scan_private(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """Kept private elements: walk sequences hidden as UN, remap text values that are UIDs."""
    element = dataset._dict[tag]
    raw = element.value
    if vr == "UN" and isinstance(element, RawDataElement) and isinstance(raw, bytes):
        if raw.startswith(_ITEM_TAG_LITTLE_ENDIAN):
            # A private sequence read as UN (implicit VR, defined length): parse and walk it.
            dataset._dict[tag] = element._replace(VR="SQ")
            _walk_items(dataset, tag, context, scope)
            return
    elif vr not in _SCANNED_TEXT_VRS:
        return  # binary vendor data (OB, OW...) is kept as it is
    if not isinstance(raw, (bytes, str)) or len(raw) > _MAX_SCANNED_PRIVATE_TEXT:
        return
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    values = [v.strip() for v in text.rstrip("\x00 ").split("\\")]
    mapped = [_scrub_private_value(v, context) for v in values]
    if mapped == values:
        return
    if vr == "UN":
        # Still of unknown type: written back as bytes, padded to even length.
        encoded = "\\".join(mapped).encode("ascii")
        dataset[tag] = DataElement(tag, "UN", encoded + b"\x00" * (len(encoded) % 2))
    else:
        dataset[tag] = DataElement(tag, vr, mapped[0] if len(mapped) == 1 else mapped)


def _scrub_private_value(value: str, context: WalkContext) -> str:
    """UIDs get their mapped value; with ShiftDates, date-shaped values are shifted.

    A private element of an implicit VR file has no VR on reading, so its
    shape is all there is to go by: a real date left beside shifted ones would
    reveal the patient's offset.
    """
    if value.count(".") >= 3 and is_valid_uid(value) and not is_registry_uid(value):
        return context.session.uid(value)
    if context.plan.options.shift_dates and _DATE_SHAPE.match(value):
        shifted = (shift_da if len(value) == 8 else shift_dt)(value, context.date_offset_days())
        return shifted
    return value


_HANDLERS: dict[Action, Handler] = {
    Action.REMOVE: _remove,
    Action.EMPTY: _empty,
    Action.DUMMY: _dummy,
    Action.REPLACE: _replace,
    Action.REMAP_UID: _remap_uid,
    Action.SHIFT_DATE: _shift_date,
    Action.RECURSE: _recurse,
    Action.RECURSE_CLEANED: _recurse_cleaned,
    Action.RECURSE_CONCEPT: _recurse_concept,
    Action.SCAN_PRIVATE: _scan_private,
}
