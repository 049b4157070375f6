"""Apply the sequence paths of Keep, Remove and Replace to one instance, around the walk.

``capture`` copies what a Keep path addresses before the walk changes it;
``apply_paths`` puts it back after the walk, then removes and replaces at
the places the other paths address. A place is found again by its item
indices, which holds because the walk never drops or reorders items (a
private sequence it empties goes whole).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass

from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from .character_sets import declared_character_set, unwritable_problem
from .errors import ElementError, element_name
from .handlers import replacement_value
from .options import AnonymizationOptions
from .tag_paths import TagPath, path_name
from .vr import ITEM_TAG_LITTLE_ENDIAN, dictionary_vm, element_vr
from .vr_values import value_problem

# (sequence tag, item index) from the top level down to the item holding the element.
Place = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Captured:
    """An element addressed by a Keep path, as it was before anonymization (and its Private Creator)."""

    place: Place
    element: DataElement | RawDataElement
    creator: DataElement | RawDataElement | None


def capture(dataset: Dataset, keep_paths: frozenset[TagPath]) -> list[Captured]:
    """Copies of the elements the Keep paths address; read only, so the walk sees the dataset as read."""
    captured = []
    for path in sorted(keep_paths, key=str):
        for place, item in _items(dataset, path, convert=False):
            element = item._dict.get(path.final)
            if element is not None:
                captured.append(Captured(place, copy.deepcopy(element), _creator_of(item, path.final)))
    return captured


def apply_paths(
    dataset: Dataset, captured: list[Captured], options: AnonymizationOptions, character_set: tuple[str, ...]
) -> None:
    """After the walk: kept elements back where their item survived, then path Remove, then path Replace."""
    for kept in captured:
        item = _item_at(dataset, kept.place)
        if item is None:
            continue  # its enclosing sequence or item did not survive its own rule
        item._dict[kept.element.tag] = kept.element
        if kept.creator is not None and kept.creator.tag not in item._dict:
            item._dict[kept.creator.tag] = kept.creator
    for path in sorted(options.remove_paths, key=str):
        for _, item in _items(dataset, path, convert=True):
            item._dict.pop(path.final, None)
    for path, text in sorted(options.replace_paths.items(), key=lambda entry: str(entry[0])):
        for _, item in _items(dataset, path, convert=True):
            # "US or SS" and the like: the element already there says which.
            present = item._dict.get(path.final)
            vr = element_vr(path.final, present.VR if present is not None else None)
            terms = declared_character_set(item)
            problem = value_problem(vr, dictionary_vm(int(path.final)), text) or unwritable_problem(
                vr, text, character_set if terms is None else terms
            )
            if problem:
                raise ElementError(f"{element_name(path.final)} (in {path_name(path)})", problem)
            item[path.final] = DataElement(path.final, vr, replacement_value(vr, text))


def _items(dataset: Dataset, path: TagPath, convert: bool) -> Iterator[tuple[Place, Dataset]]:
    """Each existing item the path's steps reach, with its place; nothing where a sequence or item is missing."""
    level: list[tuple[Place, Dataset]] = [((), dataset)]
    for step in path.steps:
        following = []
        for place, item in level:
            items = _sequence(item, step.tag, convert)
            if items is None:
                continue
            chosen = range(len(items)) if step.index is None else [step.index] if step.index < len(items) else []
            following += [((*place, (int(step.tag), index)), items[index]) for index in chosen]
        level = following
    yield from level


def _item_at(dataset: Dataset, place: Place) -> Dataset | None:
    item = dataset
    for tag, index in place:
        items = _sequence(item, Tag(tag), convert=True)
        if items is None or index >= len(items):
            return None
        item = items[index]
    return item


def _sequence(dataset: Dataset, tag: BaseTag, convert: bool) -> Sequence | None:
    """The items of sequence ``tag``, None if absent or not a sequence.

    A raw element is read without changing the dataset unless ``convert``:
    before the walk, the walk must see each element as it was read. A
    private sequence read as UN is an implicit VR little endian sequence
    (PS3.5 6.2.2).
    """
    element = dataset._dict.get(tag)
    if isinstance(element, RawDataElement):
        raw = element.value
        if element.VR in (None, "UN") and isinstance(raw, bytes) and raw.startswith(ITEM_TAG_LITTLE_ENDIAN):
            element = element._replace(VR="SQ", is_implicit_VR=True)
        # A malformed value raises: the rewriter reports it as the walk would have.
        converted = convert_raw_data_element(element, encoding=dataset._character_set, ds=dataset)
        if convert:
            dataset._dict[tag] = converted
        element = converted
    value = element.value if element is not None else None
    return value if isinstance(value, Sequence) else None


def _creator_of(item: Dataset, tag: BaseTag) -> DataElement | RawDataElement | None:
    """The Private Creator element reserving the block of private data element ``tag``, if the item has it."""
    block = tag.element >> 8
    if not tag.is_private or block < 0x10:
        return None
    creator = item._dict.get(Tag(tag.group, block))
    return copy.deepcopy(creator) if creator is not None else None
