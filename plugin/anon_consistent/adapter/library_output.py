"""What libraries print reaches Orthanc's log without DICOM values.

pydicom validates values as it converts them and complains through both
``warnings.warn`` and its "pydicom" logger, quoting the value: a legacy UID
with a leading zero ("Invalid value for VR UI: '1.2.840...01'") would put the
original UID in Orthanc's log, since the embedded interpreter's stderr is the
log. Validation is switched off (we never act on it: the plan decides by
tag, and every value is either replaced or copied as it is), and whatever a
library still says is rephrased without values and sent to Orthanc's log at
the info level, visible with ``--verbose``.

All of this is process-wide state, set once when the plugin starts, before
any worker thread runs: ``warnings.catch_warnings`` would not be thread-safe.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any, TextIO

from pydicom import config

from ..errors import describe_unexpected, without_values

log = logging.getLogger("anon_consistent.library")


class WithoutValues(logging.Handler):
    """Re-logs a library's records, values removed, to the plugin's logger."""

    def emit(self, record: logging.LogRecord) -> None:
        text = without_values(record.getMessage())
        log.info("anon-consistent: %s said: %s", record.name, text)


def show_warning_without_values(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Replaces ``warnings.showwarning``: the text without values, to the plugin's logger."""
    log.info("anon-consistent: %s: %s", category.__name__, without_values(str(message)))


def thread_exception_without_values(hook: Any) -> None:
    """Replaces ``threading.excepthook``: the default prints the exception text on stderr."""
    if hook.exc_type is SystemExit:
        return
    thread = hook.thread.name if hook.thread is not None else "?"
    log.error("anon-consistent: uncaught error in thread %s: %s", thread, describe_unexpected(hook.exc_value))


def keep_values_out_of_the_log() -> None:
    """Configure pydicom, ``warnings`` and ``threading`` for this process (idempotent)."""
    config.settings.reading_validation_mode = config.IGNORE
    config.settings.writing_validation_mode = config.IGNORE
    warnings.showwarning = show_warning_without_values
    threading.excepthook = thread_exception_without_values
    pydicom_logger = logging.getLogger("pydicom")
    pydicom_logger.propagate = False  # a root handler would otherwise see the raw text
    if not any(isinstance(handler, WithoutValues) for handler in pydicom_logger.handlers):
        pydicom_logger.addHandler(WithoutValues())
