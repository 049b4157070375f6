"""No identifying value survives any combination of options, except what the options keep by definition."""

from __future__ import annotations

import itertools
import json
from functools import cache

import pytest
from pydicom.dataset import Dataset

from anon_consistent.options import parse_options
from anon_consistent.ps315_options import FULL_DATES, MODIFIED_DATES, OPTION_NAMES
from anon_consistent.pseudonyms import HmacPatientKeys
from anon_consistent.uids import HmacUidFactory
from tests.dicom_data import encoded, read, rt_study
from tests.engine import OfflineEngine
from tests.option_data import pet_series, with_identifying_details
from tests.privacy import surviving, values_to_protect
from tests.unit.test_options_on_files import with_graphic_annotation


def originals() -> list[Dataset]:
    study = rt_study()
    study[-3].StructureSetROISequence[0].ROIName = "PTV DOE"
    datasets = [*pet_series(), *study, read("test-SR.dcm"), with_graphic_annotation(read("CT_small.dcm"))]
    return [with_identifying_details(ds) for ds in datasets]


KEYED_OFFSETS = HmacPatientKeys(HmacUidFactory("privacy-options-test"))


@cache
def inputs() -> tuple[list[Dataset], list[bytes]]:
    datasets = originals()
    return datasets, encoded(datasets)


def combinations() -> list[tuple[str, ...]]:
    singles = [(name,) for name in OPTION_NAMES]
    pairs = [pair for pair in itertools.combinations(OPTION_NAMES, 2) if set(pair) != {FULL_DATES, MODIFIED_DATES}]
    everything = [tuple(n for n in OPTION_NAMES if n != dates) for dates in (FULL_DATES, MODIFIED_DATES)]
    return [(), *singles, *pairs, *everything]


@pytest.mark.parametrize("names", combinations(), ids=lambda names: "+".join(names) or "basic")
def test_nothing_identifying_survives_but_what_the_options_keep(names: tuple[str, ...]) -> None:
    datasets, blobs = inputs()
    options = parse_options(json.dumps({"Options": list(names)}).encode())
    # Keyed offsets: with random ones, one patient's shifted date now and then
    # equals another patient's original date, which is no leak but reads as one.
    outputs = OfflineEngine(patient_keys=KEYED_OFFSETS).run_bytes(blobs, options)
    assert surviving(outputs, datasets, names) == {}


def test_the_check_sees_what_an_option_keeps() -> None:
    # Without its allowance, what Retain Institution Identity keeps is reported: the check is not blind.
    datasets, blobs = inputs()
    outputs = OfflineEngine().run_bytes(blobs, parse_options(b'{"Options": ["RetainInstitutionIdentity"]}'))
    assert "Saint Example Hospital" in surviving(outputs, datasets)
    assert "Saint Example Hospital" not in values_to_protect(datasets[0], ["RetainInstitutionIdentity"])
