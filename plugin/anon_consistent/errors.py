"""Why an instance failed, said without its values.

Failure reasons go to Orthanc's log and to the HTTP client. They name the
attribute and the problem, never the original UIDs, names, IDs or dates:
library messages quote the values they choke on, so their text is passed
through ``without_values`` before it is repeated anywhere.
"""

from __future__ import annotations

import re

from pydicom.datadict import keyword_for_tag

# What library messages quote (pydicom writes values as 'x' or "x") and the
# shapes of UIDs and dates that may also appear unquoted.
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_UID_LIKE = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])")
_DATE_LIKE = re.compile(r"(?<![\w.-])\d{8}(?:\d{4,6}(?:\.\d{1,6})?)?(?![\w-])")
HIDDEN = "…"


class InstanceRewriteError(Exception):
    """The instance could not be anonymized; the message says why."""


class ValueProblem(InstanceRewriteError):
    """A handler cannot write the element it handles; the walk adds the element's name and path."""


class ElementError(InstanceRewriteError):
    """A problem with one element, located by a path from the top-level dataset.

    The path grows as the error travels up out of nested sequences, so the
    message reads "ReferencedSeriesSequence (0008,1115) > item 2 >
    SeriesInstanceUID (0020,000E) ...".
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(where, problem)
        self.path = [where]
        self.problem = problem

    def inside(self, where: str) -> ElementError:
        """The same error, one level further out."""
        self.path.insert(0, where)
        return self

    def __str__(self) -> str:
        return f"{' > '.join(self.path)} {self.problem}"


def element_name(tag: int) -> str:
    """``PixelData (7FE0,0010)``; a tag alone when the dictionary does not know it."""
    label = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    keyword = keyword_for_tag(tag)
    return f"{keyword} {label}" if keyword else label


def without_values(text: str) -> str:
    """``text`` with quoted values, UIDs and dates replaced by an ellipsis."""
    text = _QUOTED.sub(f"'{HIDDEN}'", text)
    text = _UID_LIKE.sub(HIDDEN, text)
    return _DATE_LIKE.sub(HIDDEN, text)


def describe_unexpected(error: BaseException) -> str:
    """A library error as a failure reason: its type and its text without values."""
    return f"{type(error).__name__}: {without_values(str(error))}"
