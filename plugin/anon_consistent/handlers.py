"""The walk over a dataset and one small handler per action of the plan.

Only elements whose action is not KEEP are converted from pydicom's raw form;
everything else, pixel data included, stays raw and is copied back byte for
byte by the encoder. That keeps the cost of an instance proportional to what
changes, not to its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from .character_sets import declared_character_set, unwritable_problem
from .dates import shift_da, shift_dt
from .descriptors import InstanceIdentifiers, clean_descriptor
from .errors import ElementError, InstanceRewriteError, ValueProblem, element_name
from .integrity import check_last_element
from .plan import Action, ElementPlan, Scope
from .private_blocks import PrivateBlocks
from .private_text import MAX_SCANNED_PRIVATE_TEXT, SCANNED_TEXT_VRS, scrub_private_text
from .session import MappingSession
from .uid_policy import is_registry_uid, keeps_uid_attribute
from .vr import BINARY_NUMBER_VRS, ITEM_TAG_LITTLE_ENDIAN, NUMBER_TYPE_BY_VR

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


@dataclass
class WalkContext:
    plan: ElementPlan
    session: MappingSession
    patient_id: str  # the original one: pseudonym and date offset are keyed by it
    # The top-level SpecificCharacterSet terms, which items inherit; () if absent.
    character_set: tuple[str, ...] = ()
    # The instance's own identifying values, read before the walk changes
    # anything; only when the plan cleans text (Clean Descriptors...).
    identifiers: InstanceIdentifiers | None = None
    # Tags of the sequences around the elements being walked, outermost first.
    path: tuple[int, ...] = field(default=())

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
    path = context.path
    private: PrivateBlocks | None = None
    for tag in list(elements):
        element = elements.get(tag)
        if element is None:
            continue  # removed with its overlay group
        action, vr = plan.resolve(tag, element.VR, scope, path)
        if action is Action.SELECT_PRIVATE:
            if private is None:  # read before any private element is touched
                private = plan.private_selection.blocks(dataset)  # type: ignore[union-attr]
            action = plan.select_private(tag, vr, private)
        if action is not Action.KEEP:
            try:
                _HANDLERS[action](dataset, tag, vr, context, scope)
            except ElementError as error:
                raise error.inside(element_name(tag)) from error.__cause__
            except ValueProblem as error:
                raise ElementError(element_name(tag), str(error)) from None
            except InstanceRewriteError:
                raise  # says why already, without values
            except Exception as error:  # pydicom raises many types on malformed values
                raise ElementError(element_name(tag), _value_problem(element.VR, vr, error)) from error
    if private is not None:
        private.drop_unused_creators(dataset)


def _value_problem(read_vr: str | None, vr: str, error: Exception) -> str:
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


def _remove_overlay(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """OverlayData goes with its whole group 60xx: a partial Overlay Plane module is an IOD error."""
    group = tag >> 16
    for other in [t for t in dataset._dict if t >> 16 == group]:
        del dataset._dict[other]


def _empty(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    dataset[tag] = DataElement(tag, vr, Sequence() if vr == "SQ" else None)


def _dummy(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    dataset[tag] = DataElement(tag, vr, _DUMMY_BY_VR.get(vr, DUMMY_TEXT))


def _replace(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    text = context.plan.options.replace[tag]
    # An item may declare its own character set (PS3.5 7.5.3); else it inherits.
    terms = declared_character_set(dataset)
    problem = unwritable_problem(vr, text, context.character_set if terms is None else terms)
    if problem:
        raise ValueProblem(problem)
    dataset[tag] = DataElement(tag, vr, replacement_value(vr, text))


def _remap_uid(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    element = dataset[tag]
    values = uid_values(element.value)
    if not values:
        return
    session, options = context.session, context.plan.options
    # Pinned values (Keep/Replace) win over everything, class UIDs included. A
    # kept private UI is not pinned: it follows the mapping, as with KeepPrivateTags.
    kept = tag in options.keep and not tag.is_private
    kept_as_is = kept or (keeps_uid_attribute(tag) and tag not in options.replace)
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
    inner = Scope.ITEM if scope is Scope.NORMAL else scope
    outer = context.path
    context.path = (*outer, int(tag))
    try:
        for index, item in enumerate(dataset[tag].value or (), 1):
            try:
                # A nested element running past the end of its sequence's value
                # comes back short, like the last element of a truncated file.
                check_last_element(item)
                walk(item, context, inner)
            except ElementError as error:
                raise error.inside(f"item {index}") from error.__cause__
    finally:
        context.path = outer


def _recurse(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    # A sequence nested in a coded concept is no longer the concept itself.
    _walk_items(dataset, tag, context, Scope.CLEANED if scope is Scope.CONCEPT else scope)


def _recurse_cleaned(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    _walk_items(dataset, tag, context, Scope.CLEANED)


def _recurse_concept(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    _walk_items(dataset, tag, context, Scope.CONCEPT)


def _recurse_descriptor(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    # Within a sequence already cleaned more strictly, its stricter rules go on.
    strict = Scope.CLEANED if scope is Scope.CONCEPT else scope
    _walk_items(dataset, tag, context, strict if strict in (Scope.CLEANED, Scope.GRAPHIC) else Scope.DESCRIPTOR)


def _recurse_graphic(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    _walk_items(dataset, tag, context, Scope.GRAPHIC)


def _clean_text(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """A descriptor without the instance's own identifiers (``descriptors.clean_descriptor``), value by value."""
    _clean(dataset, tag, vr, context, required=False)


def _clean_text_or_dummy(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """The same for a Type 1 attribute: a dummy value if cleaning leaves nothing."""
    _clean(dataset, tag, vr, context, required=True)


def _clean(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, required: bool) -> None:
    if context.identifiers is None:  # the rewriter reads them whenever the plan cleans text
        raise InstanceRewriteError("internal error: a text to clean but the instance's identifiers were not read")
    element = dataset[tag]
    value = element.value
    if value is None or value == "":
        return
    values = [value] if isinstance(value, str) else [str(v) for v in value]
    cleaned = [clean_descriptor(str(v), context.identifiers) for v in values]
    if required and not any(cleaned):
        cleaned = [str(_DUMMY_BY_VR.get(vr, DUMMY_TEXT))]
    if cleaned != values:
        element.value = cleaned[0] if len(cleaned) == 1 else cleaned


def _un_as_sequence(dataset: Dataset, tag: BaseTag) -> bool:
    """Turn a raw UN element whose value is a sequence (private, defined length) into one; False if it is none.

    Its items are implicit VR little endian, as PS3.5 6.2.2 encodes a UN
    sequence in an explicit VR file too.
    """
    element = dataset._dict[tag]
    raw = element.value
    if not (isinstance(element, RawDataElement) and isinstance(raw, bytes) and raw.startswith(ITEM_TAG_LITTLE_ENDIAN)):
        return False
    dataset._dict[tag] = element._replace(VR="SQ", is_implicit_VR=True)
    return True


def _recurse_private(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """A private sequence not known safe: each nested attribute is judged on its own (PS3.15 E.3.10).

    It goes if nothing is left in it, or if, read as UN, it is no sequence.
    """
    if vr == "UN" and not _un_as_sequence(dataset, tag):
        del dataset._dict[tag]
        return
    _walk_items(dataset, tag, context, scope)
    if not any(len(item) for item in dataset[tag].value or ()):
        del dataset._dict[tag]


def _scan_private(dataset: Dataset, tag: BaseTag, vr: str, context: WalkContext, scope: Scope) -> None:
    """Kept private elements: walk sequences hidden as UN, remap UIDs and shift dates in text values."""
    element = dataset._dict[tag]
    raw = element.value
    if vr == "UN" and isinstance(element, RawDataElement) and isinstance(raw, bytes):
        if _un_as_sequence(dataset, tag):
            _walk_items(dataset, tag, context, scope)
            return
    elif vr not in SCANNED_TEXT_VRS:
        return  # binary vendor data (OB, OW, FD...) is kept as it is
    if not isinstance(raw, (bytes, str)) or len(raw) > MAX_SCANNED_PRIVATE_TEXT:
        return
    # Latin-1 maps each byte to one character and back, so every byte that is
    # not part of a UID or date is written back exactly, whatever the charset.
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    offset_days = context.date_offset_days if context.plan.options.shift_dates else None
    scrubbed = scrub_private_text(text, context.session.uid, offset_days)
    if scrubbed == text:
        return
    if isinstance(element, RawDataElement) and isinstance(raw, bytes):
        # Stays raw, in its VR as read (UN stays UN), padded to even length.
        encoded = scrubbed.encode("latin-1")
        if len(encoded) % 2:
            encoded += b"\x00" if vr == "UN" else b" "
        dataset._dict[tag] = element._replace(value=encoded, length=len(encoded))
    else:
        dataset[tag] = DataElement(tag, vr, scrubbed)


_HANDLERS: dict[Action, Handler] = {
    Action.REMOVE: _remove,
    Action.REMOVE_OVERLAY: _remove_overlay,
    Action.EMPTY: _empty,
    Action.DUMMY: _dummy,
    Action.REPLACE: _replace,
    Action.REMAP_UID: _remap_uid,
    Action.SHIFT_DATE: _shift_date,
    Action.RECURSE: _recurse,
    Action.RECURSE_CLEANED: _recurse_cleaned,
    Action.RECURSE_CONCEPT: _recurse_concept,
    Action.RECURSE_GRAPHIC: _recurse_graphic,
    Action.RECURSE_DESCRIPTOR: _recurse_descriptor,
    Action.CLEAN_TEXT: _clean_text,
    Action.CLEAN_TEXT_OR_DUMMY: _clean_text_or_dummy,
    Action.SCAN_PRIVATE: _scan_private,
    Action.RECURSE_PRIVATE: _recurse_private,
}
