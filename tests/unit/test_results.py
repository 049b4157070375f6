"""The answers of single and bulk calls: native's keys, in native's order, and ours."""

from __future__ import annotations

from anon_consistent.results import DESCRIPTION, AnonymizationResult, Level, OrthancIds, Produced


def ids(prefix: str, series: str = "se", instance: str = "i") -> OrthancIds:
    return OrthancIds(f"{prefix}-p", f"{prefix}-st", f"{prefix}-{series}", f"{prefix}-{instance}")


def two_series() -> AnonymizationResult:
    result = AnonymizationResult(level=Level.STUDY, total=3)
    result.produced += [
        Produced(ids("new", "se1", "i1"), ids("src", "se1", "i1")),
        Produced(ids("new", "se1", "i2"), ids("src", "se1", "i2")),
        Produced(ids("new", "se2", "i3"), ids("src", "se2", "i3")),
    ]
    return result


def test_single_answer_has_native_keys_and_the_source() -> None:
    answer = two_series().as_json("trial")
    assert answer["ID"] == "new-st" and answer["Path"] == "/studies/new-st" and answer["Type"] == "Study"
    assert answer["PatientID"] == "new-p" and answer["Description"] == DESCRIPTION == "REST API"
    assert answer["InstancesCount"] == 3 and answer["FailedInstancesCount"] == 0
    assert answer["IsAnonymization"] is True and answer["AnonymizedFrom"] == "src-st"
    assert answer["Project"] == "trial"


def test_bulk_answer_lists_each_new_resource_once_bottom_up() -> None:
    resources = two_series().as_bulk_json("trial")["Resources"]
    assert [(r["Type"], r["ID"]) for r in resources] == [  # type: ignore[attr-defined]
        ("Instance", "new-i1"),
        ("Instance", "new-i2"),
        ("Instance", "new-i3"),
        ("Series", "new-se1"),
        ("Series", "new-se2"),
        ("Study", "new-st"),
        ("Patient", "new-p"),
    ]
    by_id = {r["ID"]: r for r in resources}  # type: ignore[attr-defined]
    assert by_id["new-se2"]["AnonymizedFrom"] == "src-se2" and by_id["new-se2"]["Path"] == "/series/new-se2"


def test_empty_bulk_answer_has_zero_counts() -> None:
    answer = AnonymizationResult(level=None, total=0).as_bulk_json("default")
    assert answer["Resources"] == [] and answer["InstancesCount"] == 0 and answer["Description"] == "REST API"
