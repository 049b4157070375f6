"""The regular expressions of Clean Descriptors: text folding and one alternative per identifier.

Alternatives are matched on *canonical* text: folded (see ``fold``) and with
every separator character turned into a space, so that "DOE^JOHN", "Doe,
John" and "doe_john" read alike and a pattern needs only " *" between words.
An alternative is a (before, body, after) triple: the look-arounds at its
edges decide which occurrences count (``descriptors`` documents the rules),
and alternatives sharing them are compiled as one group.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

# Characters that may separate the words of an identifier, and that collapse
# around a removed one. Brackets are not among them: "(DOE)" leaves an empty
# pair that the cleaner drops, while "(PTV) DOE" keeps its closing bracket.
# Dashes (hyphen to em dash, minus), "&", "@", "!", "?", "§" and middle dots
# too: "DOE\u2013JOHN" or "John@Doe" must not leave a stray dash or "@".
SEPARATORS = r"\s_\-.,/=:;|'\"`+*#~^&@!?§\u00b7\u2010-\u2015\u2018\u2019\u2022\u2212"
# Soft hyphen, zero-width spaces and joiners, word joiner, BOM: invisible, so
# they must not hide a name ("DO\u00adE") and go with what is removed.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_SEPARATOR = re.compile(f"[{SEPARATORS}]")
_GAP, _SPACED = " *", " +"  # between the words of an identifier, in canonical text
_LETTER = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
_WORD = re.compile(r"[^\W_]+")
_LETTER_DIGIT_RUN = re.compile(r"\d+|[^\W\d_]+")
# Scripts written without spaces between words (CJK, kana, Hangul) have no
# token edges to look for: their name words match anywhere.
_UNSPACED = re.compile(r"[\u2e80-\u9fff\u3040-\u30ff\uac00-\ud7af\uf900-\ufaff]")
# Name particles are only removed next to a name word when the component has
# several words ("VAN DER BERG"): alone, "de" or "la" are ordinary words.
PARTICLES = frozenset(
    (
        "al bin da dal das de degli dei del della den der des di do dos du el "
        "ibn la le lo ten ter van vom von zu zum zur"
    ).split()
)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE"})
_NO_DECOMPOSITION = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}
    | {"ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "\u0131": "i"}
    | dict.fromkeys(INVISIBLE, "")
)
_GERMAN_BACK = re.compile(r"ae|oe|ue")
# A name word starts a match where no letter or digit precedes it, or (3
# letters or more) where a digit does: "T1SMITH"; "400HU" keeps a name "HU".
_NAME_START = rf"(?:(?<!{_ALNUM})|(?<!{_LETTER})(?={_LETTER}{{3}}))"
_NAME_END = rf"(?:(?!{_ALNUM})|(?<={_LETTER}{{3}})(?!{_LETTER}))"
_TOKEN_START, _TOKEN_END = rf"(?<!{_ALNUM})", rf"(?!{_ALNUM})"
_NOT_AFTER_DIGIT, _NOT_BEFORE_DIGIT = r"(?<!\d)", r"(?!\d)"
_MIN_DIGIT_CHARS, _MIN_LETTER_CHARS, _MIN_ANYWHERE_CHARS = 3, 4, 5

Alternative = tuple[str, str, str]  # look-behind, body, look-ahead


def fold(text: str) -> str:
    """``text`` as matched: case-folded, accents and compatibility forms (full-width, ligatures) dropped."""
    return text.lower() if text.isascii() else "".join(_fold_char(char) for char in text)


def fold_mapped(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, unless ``text`` is ASCII, the index in ``text`` of each folded character."""
    if text.isascii():
        return text.lower(), None
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        part = _fold_char(char)
        folded.append(part)
        origin.extend([index] * len(part))
    return "".join(folded), origin


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.translate(_NO_DECOMPOSITION))
    return "".join(part for part in decomposed if not unicodedata.combining(part)).casefold()


def canonical(folded: str) -> str:
    """Folded text with each separator character as a space (same length: spans carry over)."""
    return _SEPARATOR.sub(" ", folded)


def _forms(text: str) -> set[str]:
    """``text`` folded, and folded after the German ä -> ae spelling."""
    return {fold(text), fold(text.translate(_GERMAN))}


def name_alternatives(person_names: Iterable[str]) -> list[Alternative]:
    """Each name word alone, and the runs in which a name is written (see the module rules)."""
    alternatives: list[Alternative] = []
    for value in person_names:
        for group in value.split("="):  # alphabetic, ideographic, phonetic
            components = (group.split("^") + [""] * 5)[:5]
            for kind in ("plain", "german", "german back"):
                words = [_name_words(component, kind) for component in components]
                for word in (word for part in words for word in part if not word.isalpha() or _UNSPACED.search(word)):
                    alternatives += id_alternatives(word) if _has_digit(word) else [("", word, "")] * (len(word) > 1)
                alternatives += _name_runs(*([word for word in part if word.isalpha()] for part in words))
    return alternatives


def name_connectors(person_names: Iterable[str]) -> list[Alternative]:
    """Initials, particles, prefixes and suffixes of the names, as whole tokens.

    Alone they identify no one ("Q", "de", "Dr"), so they are removed only
    next to removed text: "JOHN Q DOE" loses its Q, "Q T1" keeps it.
    """
    terms: set[str] = set()
    words: set[str] = set()
    for value in person_names:
        for group in value.split("="):
            components = (group.split("^") + [""] * 5)[:5]
            for kind in ("plain", "german", "german back"):
                parts = [[word for word in _name_words(part, kind) if word.isalpha()] for part in components]
                found = _terms(*parts[:3])
                terms |= found
                words |= {word for part in parts for word in part} | {word[0] for word in found}
    return [(_TOKEN_START, re.escape(word), _TOKEN_END) for word in words - terms if not _UNSPACED.search(word)]


def _terms(*parts: list[str]) -> set[str]:
    """The words of family, given and middle names that identify alone: not initials, not particles."""
    return {
        word
        for part in parts
        for word in part
        if len(word) >= 2 and not (len(part) > 1 and word in PARTICLES) and not _UNSPACED.search(word)
    }


def _name_words(component: str, kind: str) -> list[str]:
    words: list[str] = _WORD.findall(fold(component.translate(_GERMAN) if kind == "german" else component))
    return [_german_back(word) for word in words] if kind == "german back" else words


def _name_runs(*parts: list[str]) -> list[Alternative]:
    """Fixed word sequences, so that no run of letters can be split in many ways (no regex blow-up)."""
    family, given, middle, prefix, suffix = parts
    terms = _terms(family, given, middle)
    runs = [[term] for term in terms]
    runs += [
        part[i:j] for part in (family, given, middle) for i in range(len(part)) for j in range(i + 2, len(part) + 1)
    ]
    initial, middle_initial = [word[0] for word in given[:1]], [word[0] for word in middle[:1]]
    # "van der Berg", "der Berg" and "Berg" are each written with the other parts.
    for surname in [family[i:] for i in range(len(family)) if terms.intersection(family[i:])] or [family]:
        runs += [given + middle + surname, surname + given + middle, given + surname, surname + given]
        runs += [
            initial + surname,
            surname + initial,
            initial + middle_initial + surname,
            surname + initial + middle_initial,
        ]
        runs += [prefix + surname, prefix + given + surname, prefix + given + middle + surname]
        runs += [surname + suffix, given + surname + suffix, given + middle + surname + suffix]
    return [
        (
            _NAME_START if run[0] in terms else _TOKEN_START,
            _GAP.join(map(re.escape, run)),
            _NAME_END if run[-1] in terms else _TOKEN_END,
        )
        for run in {tuple(run) for run in runs if terms.intersection(run)}
    ]


def id_alternatives(value: str) -> list[Alternative]:
    """Alternatives for an ID; the parts of a multi-part ID that could identify alone count too.

    Separators may also appear where letters and digits meet ("PT12345" as
    "PT 12345" or "pt_12345"), and the long number of an alphanumeric ID
    ("12345") identifies alone.
    """
    alternatives = []
    for form in _forms(value):
        words = _WORD.findall(form)
        runs = [run for word in words for run in _LETTER_DIGIT_RUN.findall(word)]
        alternatives += _id_alternative(runs)
        alone = [word for word in words if len(word) >= _MIN_ANYWHERE_CHARS] if len(words) > 1 else []
        alone += [run for run in runs if run.isdigit() and len(run.lstrip("0")) >= _MIN_ANYWHERE_CHARS]
        alternatives += [
            alt for word in dict.fromkeys(alone) for alt in _id_alternative(_LETTER_DIGIT_RUN.findall(word))
        ]
    return alternatives


def _id_alternative(words: list[str]) -> list[Alternative]:
    if not words:
        return []
    parts = [re.escape(word) for word in words]
    zeros = len(words[0]) - len(words[0].lstrip("0")) if words[0].isdigit() else 0
    if words[0].isdigit():
        parts[0] = "0*" + words[0][zeros:]  # 0012345 and 12345 are one ID
    length = sum(map(len, words)) - zeros
    has_digit = any(map(_has_digit, words))
    body = _GAP.join(parts)
    if has_digit and length >= _MIN_ANYWHERE_CHARS:
        return [("", body, "")]
    if has_digit and length >= _MIN_DIGIT_CHARS:
        return [(_TOKEN_START, body, _TOKEN_END)]
    if not has_digit and length >= _MIN_LETTER_CHARS:
        return [_edges(body, words)]
    return []


def phrase_alternatives(value: str) -> list[Alternative]:
    """Alternatives for an institution-like value: each line or comma-separated part as a whole phrase."""
    alternatives = []
    for part in re.split(r"[\r\n,;\\]+", value):
        for form in _forms(part):
            words = _WORD.findall(form)
            length = sum(map(len, words))
            if words and length >= (_MIN_DIGIT_CHARS if any(map(_has_digit, words)) else _MIN_LETTER_CHARS):
                alternatives.append(_edges(_GAP.join(map(re.escape, words)), words))
    return alternatives


def date_alternatives(value: str) -> list[Alternative]:
    """The spellings of a DA value that the shapes alone miss: day or month first, two-digit years."""
    if not (len(value) == 8 and value.isdigit()):
        return []
    try:
        _dt.datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return []
    parts = {"Y": value[:4], "y": value[2:4], "M": value[4:6], "D": value[6:]}
    orders = ("YMD", "DMY", "MDY", "DMy", "MDy", "yMD")
    compact = {"".join(parts[key] for key in order) for order in orders}
    # With separators, a day or month may drop its leading zero: 5.1.23 is 20230105.
    loose = {
        _SPACED.join(_optional_zero(parts[key]) if key in "MD" else parts[key] for key in order) for order in orders
    }
    return [(_NOT_AFTER_DIGIT, body, _NOT_BEFORE_DIGIT) for body in compact | loose]


def time_alternatives(value: str) -> list[Alternative]:
    """A TM value (HHMMSS), also with separators (10.15.00); with a fraction it is a shape anyway."""
    if not re.fullmatch(r"(?:[01]\d|2[0-3])[0-5]\d[0-5]\d", value):
        return []
    separated = _SPACED.join((value[:2], value[2:4], value[4:]))
    return [(_NOT_AFTER_DIGIT, value, _NOT_BEFORE_DIGIT), (_NOT_AFTER_DIGIT, separated, _NOT_BEFORE_DIGIT)]


def compile_matcher(alternatives: Iterable[Alternative]) -> re.Pattern[str] | None:
    """One regex for all alternatives, grouped by edges, longest body first (the first that matches wins)."""
    groups: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for before, body, after in alternatives:
        groups[before, after].add(body)
    if not groups:
        return None
    source = "|".join(
        f"{before}(?:{'|'.join(sorted(bodies, key=lambda body: (-len(body), body)))}){after}"
        for (before, after), bodies in sorted(groups.items())
    )
    return _compiled(source)


@lru_cache(maxsize=64)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _edges(body: str, words: list[str]) -> Alternative:
    """``body`` where no letter touches a letter edge and no digit a digit edge."""
    first, last = words[0][0], words[-1][-1]
    before = "" if _UNSPACED.match(first) else _NOT_AFTER_DIGIT if first.isdigit() else rf"(?<!{_LETTER})"
    after = "" if _UNSPACED.match(last) else _NOT_BEFORE_DIGIT if last.isdigit() else rf"(?!{_LETTER})"
    return before, body, after


def _german_back(word: str) -> str:
    """``mueller`` as ``muller``, as ``Müller`` folds (only longer words: ``joe`` is not ``jo``)."""
    return _GERMAN_BACK.sub(lambda match: match.group(0)[0], word) if len(word) >= 5 and word.isascii() else word


def _has_digit(word: str) -> bool:
    return any(char.isdigit() for char in word)


def _optional_zero(part: str) -> str:
    return "0?" + part[1] if part.startswith("0") else part
