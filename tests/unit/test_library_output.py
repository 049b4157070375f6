"""pydicom's complaints reach the log without the values they quote."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from io import BytesIO

import pydicom
import pytest
from pydicom import config

from anon_consistent.adapter.library_output import keep_values_out_of_the_log
from tests.dicom_data import ct_study, encode

LEGACY_UID = "1.2.840.113619.2.55.3.0604688119.01"


@pytest.fixture
def installed() -> Iterator[None]:
    """Install for one test, then put the process-wide state back."""
    settings = config.settings
    saved = (settings._reading_validation_mode, settings._writing_validation_mode)
    show, hook = warnings.showwarning, threading.excepthook
    pydicom_logger = logging.getLogger("pydicom")
    handlers, propagate = list(pydicom_logger.handlers), pydicom_logger.propagate
    keep_values_out_of_the_log()
    try:
        yield
    finally:
        settings._reading_validation_mode, settings._writing_validation_mode = saved
        warnings.showwarning, threading.excepthook = show, hook
        pydicom_logger.handlers[:], pydicom_logger.propagate = handlers, propagate


def test_legacy_uids_are_read_without_a_warning(installed: None) -> None:
    dataset = ct_study()[0]
    dataset.StudyInstanceUID = LEGACY_UID
    read = pydicom.dcmread(BytesIO(encode(dataset)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read.StudyInstanceUID == LEGACY_UID
    assert caught == []


def test_warnings_and_pydicom_log_records_are_rephrased(
    installed: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.INFO, logger="anon_consistent"), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"Invalid value for VR UI: '{LEGACY_UID}'", UserWarning, stacklevel=1)
        logging.getLogger("pydicom").warning("Invalid value for VR PN: 'Quixote^Zebulon'")
        logging.getLogger("pydicom.pixels").error("Bad value 19710203")
    # (pytest attaches its own capture to non-propagating loggers: only ours count.)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("anon_consistent")]
    assert logged == [
        "anon-consistent: UserWarning: Invalid value for VR UI: '…'",
        "anon-consistent: pydicom said: Invalid value for VR PN: '…'",
        "anon-consistent: pydicom.pixels said: Bad value …",
    ]
    assert LEGACY_UID not in capsys.readouterr().err
    pydicom_logger = logging.getLogger("pydicom")
    assert not pydicom_logger.propagate  # a root handler never sees the raw text
    assert {type(h).__name__ for h in pydicom_logger.handlers} - {"LogCaptureHandler"} == {
        "NullHandler",
        "WithoutValues",
    }


def test_an_uncaught_thread_error_is_logged_without_its_values(
    installed: None, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise ValueError(f"bad UID '{LEGACY_UID}'")

    with caplog.at_level(logging.ERROR, logger="anon_consistent"):
        thread = threading.Thread(target=fail, name="worker")
        thread.start()
        thread.join()
    assert [r.getMessage() for r in caplog.records] == [
        "anon-consistent: uncaught error in thread worker: ValueError: bad UID '…'"
    ]
