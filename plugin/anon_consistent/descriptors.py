"""Clean Descriptors (PS3.15 E.1-1): the instance's own identifying values taken out of free text.

``identifiers_of`` collects, once per instance, the values that identify it:
every person name (each PN attribute, nested ones too up to
``MAX_NESTED_ELEMENTS``) and its components, IDs, institution and station
names, dates and times. ``clean_descriptor`` removes
them from a description, a label or a comment, together with anything shaped
like a date, a time, a UID or an e-mail address, and keeps the rest.

Matching happens on a folded copy of the text: case-folded, accents and
compatibility forms dropped (``Müller``, ``MULLER`` and full-width letters
fold alike; the German ``ue`` spelling is a variant of ``ü`` both ways), every
separator (space, ``^ _ - . , / = : ; |``, quotes...) read as a space, and any
run of them, or none, allowed between the words of one identifier. Which
occurrences count:

- name words (2 letters or more) as whole tokens; from 3 letters also where a
  digit touches them (``DOE1``, ``T1SMITH``), never inside a longer word
  (``DOES``, ``JOHNSON``), so that 2-letter names (``LI``, ``HU``) leave
  ``CLIP`` and ``400HU`` alone. Initials, particles of multi-word components
  (``van der``) and name prefixes and suffixes are removed only next to the
  name, in the runs names are written in: ``DOEJOHN``, ``J.Doe``, ``JDOE``,
  ``DOE J``, ``Dr Doe``, ``vanderberg``;
- IDs with a digit and 5 characters or more anywhere, inside longer tokens too
  (``PT12345_T1`` gives ``PT_T1``), digit-only ones with any leading zeros;
  shorter ones with a digit as whole tokens, letter-only ones (4 letters or
  more) like name words; shorter IDs (``StudyID`` 1) are ignored;
- institution, department, address and station names as whole phrases (each
  line or comma-separated part), not word by word;
- the instance's dates also day-first, month-first or with two-digit years,
  its times as ``HHMMSS`` or ``HH.MM.SS``; and whatever the instance, any
  valid date (YYYYMMDD, YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, 15 Jan
  2023), time (``HH:MM[:SS]``, ``HHMMSS.F``), dotted UID or e-mail address.
  With Retain Longitudinal Temporal Information with Full Dates, which keeps
  the dates, only the birth date and time are removed (in the spellings
  above), not the other dates nor any date or time by shape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from .descriptor_terms import (
    INVISIBLE,
    SEPARATORS,
    canonical,
    compile_matcher,
    date_alternatives,
    fold_mapped,
    id_alternatives,
    name_alternatives,
    name_connectors,
    phrase_alternatives,
    time_alternatives,
)

# IDs and institution-like values read by keyword; PN, DA, DT and TM values
# are read by VR, so that every person name and date of the instance counts.
ID_KEYWORDS = (
    "PatientID",
    "OtherPatientIDs",
    "AccessionNumber",
    "StudyID",
    "AdmissionID",
    "ServiceEpisodeID",
    "PerformedProcedureStepID",
    "RequestedProcedureID",
    "ScheduledProcedureStepID",
    "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest",
    "MedicalRecordLocator",
    "PatientTelephoneNumbers",
    "DeviceSerialNumber",
    "DetectorID",
    "PlateID",
    "CassetteID",
)
PHRASE_KEYWORDS = (
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "IssuerOfPatientID",
    "PatientAddress",
)
_ID_TAGS = frozenset(Tag(keyword) for keyword in ID_KEYWORDS)
# The few sequences whose items carry another ID of the same patient or request.
NESTED_KEYWORDS = {
    "OtherPatientIDsSequence": ("PatientID", "IssuerOfPatientID"),
    "RequestAttributesSequence": ("AccessionNumber", "RequestedProcedureID", "ScheduledProcedureStepID"),
}
# Names and IDs nested in sequences (an ROIInterpreter, a verifying observer,
# a PersonName content item) are read too, breadth first, up to this many
# nested elements: a large SR stays cheap to read.
MAX_NESTED_ELEMENTS = 5000
_TAGS_BY_VR = {
    vr: frozenset(tag for tag, entry in DicomDictionary.items() if entry[0] == vr) for vr in ("PN", "DA", "DT", "TM")
}
_SEQUENCE_TAGS = frozenset(tag for tag, entry in DicomDictionary.items() if entry[0] == "SQ")
_BIRTH = frozenset(Tag(keyword) for keyword in ("PatientBirthDate", "PatientBirthTime"))
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_DAY_OR_MONTH = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:19|20)\d\d"
_HOUR, _MINUTE = r"(?:[01]\d|2[0-3])", r"[0-5]\d"
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![^\W\d_])"
)
# Shapes removed whatever the instance: they are dates, times or UIDs of someone.
# Matched on folded (lower-case) text.
_DATE_SHAPES = (
    # DA or DT: YYYYMMDD[HH[MM[SS[.F]]]][&ZZXX]
    rf"(?<!\d){_YEAR}{_MONTH}{_DAY}(?:\d\d(?:\d\d(?:\d\d(?:\.\d{{1,6}})?)?)?)?(?:[+-]\d{{4}})?(?!\d)",
    # YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, with an ISO 8601 time
    rf"(?<!\d){_YEAR}(?P<a>[-/.]){_DAY_OR_MONTH}(?P=a){_DAY_OR_MONTH}"
    rf"(?:[t ]{_HOUR}:{_MINUTE}(?::{_MINUTE}(?:[.,]\d+)?)?(?:z|[+-]\d\d:?\d\d)?)?(?!\d)",
    # DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, DD-MM-YYYY
    rf"(?<!\d){_DAY_OR_MONTH}(?P<b>[-/.]){_DAY_OR_MONTH}(?P=b){_YEAR}(?!\d)",
    # 15 Jan 2023, 15-JAN-2023, Jan 15th, 2023
    rf"(?<!\d){_DAY_OR_MONTH}[\s\-./]*{_MONTH_NAME}[\s\-./,]*{_YEAR}(?!\d)",
    rf"(?<![^\W\d_]){_MONTH_NAME}[\s\-./]*{_DAY_OR_MONTH}(?:st|nd|rd|th)?[\s\-./,]*{_YEAR}(?!\d)",
    # HH:MM[:SS[.F]] [am|pm]; one-digit hours only with seconds or am/pm (1:20 may be a ratio)
    rf"(?<![\d:]){_HOUR}:{_MINUTE}(?::{_MINUTE}(?:[.,]\d{{1,6}})?)?(?:\s?[ap]\.?m\b\.?)?(?![\d:])",
    rf"(?<![\d:])\d:{_MINUTE}(?::{_MINUTE}|\s?[ap]\.?m\b\.?)(?![\d:])",
    # TM with a fraction, HHMMSS.F: plain HHMMSS is too often just a number
    rf"(?<!\d)(?<!\d\.){_HOUR}{_MINUTE}{_MINUTE}\.\d{{1,6}}(?!\.?\d)",
)
_OTHER_SHAPES = (
    # UIDs (and IP addresses): four or more dotted numbers
    r"(?<!\d)(?<!\d\.)\d+(?:\.\d+){3,}(?!\.?\d)",
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail
)
# Retain Longitudinal Temporal Information with Full Dates keeps the dates,
# so they stay in descriptors too ("PTV_20230314" and "PTV_20230401" stay apart).
_SHAPES = re.compile("|".join((*_DATE_SHAPES, *_OTHER_SHAPES)))
_SHAPES_BUT_DATES = re.compile("|".join(_OTHER_SHAPES))
_SEP_RUN = f"[{SEPARATORS}]*"
_SEPARATOR_RUN = re.compile(_SEP_RUN)
_ONLY_SEPARATORS = re.compile(_SEP_RUN + r"\Z")
_EMPTY_BRACKETS = re.compile(rf"[ \t]*(?:\({_SEP_RUN}\)|\[{_SEP_RUN}\]|\{{{_SEP_RUN}\}}|<{_SEP_RUN}>)")
_DIGITS = re.compile(r"\d+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_NO_INVISIBLE = str.maketrans(dict.fromkeys(INVISIBLE))


@dataclass(frozen=True)
class InstanceIdentifiers:
    """The identifying values of one instance, as stored (PN with ``^`` and ``=``, DA, TM)."""

    person_names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    # Dates and times are kept (Full Dates): not removed by shape either.
    keep_dates: bool = False
    matchers: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    connectors: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per instance, so that cleaning each of its texts is a
        # few regex scans. Times differ from one instance to the next: they
        # get their own small regex, and the larger one is found in the cache
        # for every instance of the study.
        study = name_alternatives(self.person_names)
        study += [alt for value in self.ids for alt in id_alternatives(value)]
        study += [alt for value in self.phrases for alt in phrase_alternatives(value)]
        study += [alt for value in self.dates for alt in date_alternatives(value)]
        instance = [alt for value in self.times for alt in time_alternatives(value)]
        matchers = (compile_matcher(study), compile_matcher(instance))
        object.__setattr__(self, "matchers", tuple(matcher for matcher in matchers if matcher is not None))
        object.__setattr__(self, "connectors", compile_matcher(name_connectors(self.person_names)))


def identifiers_of(dataset: Dataset, keep_dates: bool = False) -> InstanceIdentifiers:
    """The instance's own identifying values, read at its top level (and in ``NESTED_KEYWORDS``).

    Names and IDs are read in nested sequences too (``_nested_names_and_ids``).

    Call it on the source dataset, before anything is rewritten: the values
    to remove are the original ones. Private elements are not read. With
    ``keep_dates`` (Full Dates) the only dates and times removed are the
    birth date and time, which that option does not keep.
    """
    present = dataset.keys()

    def values(vr: str) -> list[str]:
        tags = _TAGS_BY_VR[vr].intersection(present)
        if keep_dates and vr != "PN":
            tags &= _BIRTH  # the only dates and times Full Dates does not keep
        return [text for tag in sorted(tags) for text in _texts(dataset[tag].value)]

    levels = [dataset, *(item for keyword in NESTED_KEYWORDS for item in dataset.get(keyword) or ())]
    ids, phrases = [], []
    for level in levels:
        ids += [text for keyword in ID_KEYWORDS if keyword in level for text in _texts(level[keyword].value)]
        phrases += [text for keyword in PHRASE_KEYWORDS if keyword in level for text in _texts(level[keyword].value)]
    nested_names, nested_ids = _nested_names_and_ids(dataset)
    ids += nested_ids
    # Digits only: ACR-NEMA dates have dots (2023.01.15), old times colons; fractions and offsets dropped.
    dates = ["".join(_DIGITS.findall(text))[:8] for text in values("DA")]
    times = ["".join(_DIGITS.findall(text.split(".")[0])) for text in values("TM")]
    for text in values("DT"):
        digits = _DIGITS.match(text)
        dates.append(digits.group()[:8] if digits else "")
        times.append(digits.group()[8:14] if digits else "")
    return InstanceIdentifiers(
        person_names=_unique([*values("PN"), *nested_names]),
        ids=_unique(ids),
        phrases=_unique(phrases),
        dates=_unique(date for date in dates if len(date) == 8),
        times=_unique(time for time in times if len(time) == 6),
        keep_dates=keep_dates,
    )


def _nested_names_and_ids(dataset: Dataset) -> tuple[list[str], list[str]]:
    """PN values and IDs (``ID_KEYWORDS``) in standard sequences, breadth first, within ``MAX_NESTED_ELEMENTS``."""
    names: list[str] = []
    ids: list[str] = []
    pending = [dataset[tag].value or () for tag in sorted(_SEQUENCE_TAGS.intersection(dataset.keys()))]
    budget = MAX_NESTED_ELEMENTS
    while pending and budget > 0:
        items, pending = pending, []
        for item in (item for sequence in items for item in sequence):
            tags = item.keys()
            budget -= len(tags)
            if budget < 0:
                break
            names += [text for tag in sorted(_TAGS_BY_VR["PN"].intersection(tags)) for text in _texts(item[tag].value)]
            ids += [text for tag in sorted(_ID_TAGS.intersection(tags)) for text in _texts(item[tag].value)]
            pending += [item[tag].value or () for tag in sorted(_SEQUENCE_TAGS.intersection(tags))]
    return names, ids


def clean_descriptor(text: str, identifiers: InstanceIdentifiers) -> str:
    """``text`` without the instance's identifiers nor date, time or UID shapes; "" if nothing is left.

    Each backslash-separated value is cleaned on its own. Separators around a
    removed part collapse into the one before it (``AX_DOE_T1`` gives
    ``AX_T1``), or vanish at the ends; a text with nothing to remove comes
    back unchanged. Removal repeats until nothing matches, so no identifier
    can be formed by what is left.
    """
    if not text:
        return text
    values = text.split("\\")
    cleaned = [_clean_value(value, identifiers) for value in values]
    # A value emptied by cleaning goes (in "Penicillin\\DOE" the second is no allergy).
    kept = [new for old, new in zip(values, cleaned, strict=True) if new or not old]
    return "\\".join(kept) if any(kept) else ""


def _clean_value(value: str, identifiers: InstanceIdentifiers) -> str:
    # Every pass removes at least one letter or digit and adds none: it ends.
    removed = False
    while spans := _spans(value, identifiers):
        value = _splice(value, spans)
        # An invisible character left beside what went would be a stray.
        value = value.translate(_NO_INVISIBLE).strip(" \t")
        removed = True
    # Punctuation alone, once the identifiers are gone, says nothing.
    return value if not removed or _LETTER_OR_DIGIT.search(value) else ""


def _spans(value: str, identifiers: InstanceIdentifiers) -> list[tuple[int, int]]:
    """Where ``value`` has something to remove, merged where only separators lie between.

    A name's initial, particle or title is removed only as part of such a
    run: a run made of them alone stays.
    """
    folded, origin = fold_mapped(value)
    shapes = _SHAPES_BUT_DATES if identifiers.keep_dates else _SHAPES
    found = [(*match.span(), False) for match in shapes.finditer(folded)]
    text = canonical(folded)
    found += [(*match.span(), False) for matcher in identifiers.matchers for match in matcher.finditer(text)]
    if found and identifiers.connectors is not None:
        found += [(*match.span(), True) for match in identifiers.connectors.finditer(text)]
    runs: list[tuple[int, int, bool]] = []  # start, end, whether only connectors
    for start, end, connector in sorted(span for span in found if span[1] > span[0]):
        if origin is not None:
            start, end = origin[start], origin[end - 1] + 1
            while end < len(value) and unicodedata.combining(value[end]):
                end += 1  # an accent written as its own code point goes with its letter
        if runs and (start <= runs[-1][1] or _ONLY_SEPARATORS.match(value, runs[-1][1], start)):
            runs[-1] = (runs[-1][0], max(end, runs[-1][1]), runs[-1][2] and connector)
        else:
            runs.append((start, end, connector))
    return [(start, end) for start, end, only_connectors in runs if not only_connectors]


def _splice(value: str, spans: list[tuple[int, int]]) -> str:
    """``value`` without ``spans``, each gap's separators reduced to those before it."""
    bounds = [0] + [edge for span in spans for edge in span] + [len(value)]
    pieces = [value[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    result, pending = "", ""
    for index, piece in enumerate(pieces):
        lead = _separators_at(piece, 0) if index else 0
        trail = len(piece) - _separators_at(piece[::-1], 0) if index < len(pieces) - 1 else len(piece)
        trail = max(trail, lead)
        body = piece[lead:trail]
        if body:
            result += (pending or piece[:lead] or " ") + body if result else body
        pending = piece[trail:]
    return _EMPTY_BRACKETS.sub("", result).strip(" \t")


def _separators_at(text: str, position: int) -> int:
    """How many separators start at ``position``."""
    run = _SEPARATOR_RUN.match(text, position)
    return run.end() - position if run else 0


def _texts(value: object) -> list[str]:
    """The non-empty string values of an element value (multi-valued, PN or undecoded bytes)."""
    if value is None:
        return []
    if isinstance(value, bytes):
        items: Iterable[object] = value.decode("latin-1").split("\\")
    elif isinstance(value, MultiValue | list | tuple):
        items = value
    else:
        items = [value]
    return [text for text in (str(item).strip(" \x00") for item in items if item is not None) if text]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
