"""A Replace value the instance's SpecificCharacterSet cannot hold fails the instance, never becomes "?"."""

from __future__ import annotations

import json

import pytest
from pydicom.dataset import Dataset

from anon_consistent.character_sets import unwritable_problem
from anon_consistent.errors import InstanceRewriteError
from anon_consistent.options import parse_options
from tests.dicom_data import ct_study, encode
from tests.engine import OfflineEngine

JAPANESE = "山田^太郎"


def instance(character_set: str | list[str] | None) -> bytes:
    dataset: Dataset = ct_study()[0]
    if character_set is None:
        del dataset.SpecificCharacterSet
    else:
        dataset.SpecificCharacterSet = character_set
    return encode(dataset)


def replace(data: bytes, **values: str) -> Dataset:
    options = parse_options(json.dumps({"Replace": values}).encode())
    return OfflineEngine().run([data], options)[0]


def test_a_name_latin_1_cannot_hold_fails_the_instance_naming_attribute_and_character_set() -> None:
    with pytest.raises(InstanceRewriteError) as failure:
        replace(instance("ISO_IR 100"), PatientName=JAPANESE)
    reason = str(failure.value)
    assert reason.startswith("PatientName (0010,0010) Replace value has characters")
    assert "SpecificCharacterSet (0008,0005): ISO_IR 100" in reason
    assert "山" not in reason and "?" not in reason


def test_an_attribute_the_instance_lacks_is_checked_too() -> None:
    with pytest.raises(InstanceRewriteError, match=r"^PatientComments \(0010,4000\) Replace value"):
        replace(instance("ISO_IR 100"), PatientComments="Ωmega")


def test_values_the_character_set_holds_are_written_exactly() -> None:
    assert replace(instance("ISO_IR 100"), PatientName="Müller^Jürgen").PatientName == "Müller^Jürgen"
    assert replace(instance("ISO_IR 192"), PatientName=JAPANESE).PatientName == JAPANESE
    assert replace(instance("ISO_IR 126"), StudyDescription="Ωmega").StudyDescription == "Ωmega"
    # ISO 2022 code extensions: ASCII and JIS X 0208 in one value.
    out = replace(instance(["", "ISO 2022 IR 87"]), PatientName="Yamada^Tarou=" + JAPANESE)
    assert out.PatientName == "Yamada^Tarou=" + JAPANESE


def test_without_specific_character_set_only_the_default_repertoire_is_accepted() -> None:
    assert replace(instance(None), PatientName="Muller^Hans").PatientName == "Muller^Hans"
    with pytest.raises(InstanceRewriteError, match=r"SpecificCharacterSet \(0008,0005\): none, the default"):
        replace(instance(None), PatientName="Müller^Hans")


def test_only_text_vrs_are_checked() -> None:
    assert unwritable_problem("PN", JAPANESE, ("ISO_IR 100",))
    assert unwritable_problem("PN", JAPANESE, ("ISO_IR 192",)) is None
    assert unwritable_problem("DA", "20240101", ()) is None
    assert unwritable_problem("LO", "plain", ()) is None
