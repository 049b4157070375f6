"""ROI names stay distinct when Clean Descriptors makes two of them equal.

Tools read an RTSTRUCT by ROI name: platipy writes one file per name,
rt-utils selects a ROI by name. Cleaning "PTV_DOE" and "PTV_SMITH" (or, without
a date option, "PTV_20230314" and "PTV_20230401") gives "PTV" twice, and one
of the ROIs would be lost to them. So within one instance, when cleaning makes
names equal that were different, the later ones are numbered: "PTV",
"PTV_2". A name cleaning left as it was keeps it; names equal in the source
stay equal; names cleaned to nothing stay empty.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

# (sequence, name attribute): the names tools key ROIs by.
NAMED_ITEMS = (("StructureSetROISequence", "ROIName"), ("RTROIObservationsSequence", "ROIObservationLabel"))
_MAX_LENGTH = {"ROIName": 64, "ROIObservationLabel": 16}  # LO, SH

OriginalNames = dict[str, list[str]]


def original_names(dataset: Dataset) -> OriginalNames:
    """The ROI names of ``dataset`` before cleaning, per sequence keyword ("" where absent)."""
    return {
        sequence: _names(dataset, sequence, attribute) for sequence, attribute in NAMED_ITEMS if sequence in dataset
    }


def keep_names_distinct(dataset: Dataset, originals: OriginalNames) -> None:
    """Number the names that cleaning made equal to another one (see the module)."""
    for sequence, attribute in NAMED_ITEMS:
        before = originals.get(sequence)
        items = dataset.get(sequence) if sequence in dataset else None
        if not before or items is None or len(items) != len(before):
            continue  # nothing read before, or the sequence changed shape: nothing to compare
        after = _names(dataset, sequence, attribute)
        for index, name in _distinct(before, after, _MAX_LENGTH[attribute]).items():
            setattr(items[index], attribute, name)


def _distinct(before: list[str], after: list[str], max_length: int) -> dict[int, str]:
    """The new name of each item whose cleaned name would repeat another ROI's."""
    taken = {name for old, name in zip(before, after, strict=True) if name and name == old}
    every = set(after)
    renamed: dict[int, str] = {}
    given: dict[str, str] = {}  # original -> name given, so that equal originals stay equal
    for index, (old, name) in enumerate(zip(before, after, strict=True)):
        if not name or name == old:
            continue
        if old in given:
            chosen = given[old]
        elif name not in taken:
            chosen = name
        else:
            number = 2
            while (chosen := _numbered(name, number, max_length)) in taken or chosen in every:
                number += 1
        given[old] = chosen
        taken.add(chosen)
        if chosen != name:
            renamed[index] = chosen
    return renamed


def _numbered(name: str, number: int, max_length: int) -> str:
    suffix = f"_{number}"
    return name[: max_length - len(suffix)] + suffix


def _names(dataset: Dataset, sequence: str, attribute: str) -> list[str]:
    return [str(item.get(attribute, "") or "") for item in dataset.get(sequence) or ()]
