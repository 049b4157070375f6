"""Job records shared by Orthanc nodes: seen, cancelled and interrupted from any node, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from anon_consistent.store import JobRecord, JobStore, open_database
from anon_consistent.store.database import Database

Opener = Callable[[], Database]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        location: str | Path = tmp_path / "m.sqlite"
    else:
        location = request.getfixturevalue("new_postgres_database")()
    return lambda: open_database(location)


def running(job_id: str, total: int = 10) -> JobRecord:
    request: dict[str, object] = {"Method": "POST", "Uri": "/anon-consistent/studies/s1", "Body": {"Project": "p"}}
    return JobRecord(id=job_id, state="Running", description={"Project": "p"}, request=request, total=total)


def age_heartbeat(database: Database, job_id: str, seconds: float) -> None:
    database.modify(f"UPDATE jobs SET heartbeat = {database.now_sql} - ? WHERE id = ?", (seconds, job_id))


def test_a_job_of_node_a_is_seen_from_node_b_with_its_progress(opener: Opener) -> None:
    a, b = JobStore(opener(), node="A"), JobStore(opener(), node="B")
    a.insert(running("j1"))
    a.update_progress("j1", 40, 4)
    seen = b.get("j1")
    assert seen is not None and (seen.state, seen.progress, seen.stored, seen.node) == ("Running", 40, 4, "A")
    assert [r.id for r in b.recent(10)] == ["j1"]
    assert b.get("nope") is None


def test_a_cancel_asked_on_b_reaches_a_with_its_heartbeat(opener: Opener) -> None:
    a, b = JobStore(opener(), node="A"), JobStore(opener(), node="B")
    a.insert(running("j1"))
    a.insert(running("j2"))
    assert a.beat() == []
    assert b.request_cancel("j1")
    assert a.beat() == ["j1"]
    assert b.beat() == []  # b runs nothing
    finished = running("j2")
    finished.state, finished.completed = "Success", 5.0
    a.update_state(finished)
    assert not b.request_cancel("j2")  # finished: nothing to ask


def test_a_job_whose_node_stopped_beating_is_interrupted_by_whoever_looks(opener: Opener) -> None:
    database = opener()
    a, b = JobStore(database, node="A"), JobStore(opener(), node="B")
    a.insert(running("j1", total=20))
    a.update_progress("j1", 35, 7)
    age_heartbeat(database, "j1", 5)
    alive = b.get("j1")
    assert alive is not None and alive.state == "Running"  # 5 s of silence is a busy node, not a dead one
    age_heartbeat(database, "j1", 60)
    dead = b.get("j1")
    assert dead is not None and dead.state == "Failure" and dead.completed is not None
    assert "Interrupted" in dead.error and "7 of 20" in dead.error and "POST /anon-consistent/studies/s1" in dead.error
    again = a.get("j1")
    assert again is not None and again.state == "Failure"  # recorded for every node
    assert a.beat() == []


def test_the_runner_itself_never_sees_its_own_jobs_as_dead(opener: Opener) -> None:
    database = opener()
    a = JobStore(database, node="A")
    a.insert(running("j1"))
    age_heartbeat(database, "j1", 60)
    found = a.get("j1")
    assert found is not None and found.state == "Running"


def test_start_up_interrupts_this_nodes_previous_life_but_not_a_live_node(opener: Opener) -> None:
    first_life = JobStore(opener(), node="A")
    first_life.insert(running("from-a"))
    b = JobStore(opener(), node="B")
    b.insert(running("from-b"))
    restarted = JobStore(opener(), node="A")  # node A again, a new process
    interrupted = sorted(r.id for r in restarted.interrupt_unfinished())
    states = {r.id: r.state for r in b.recent(10)}
    if restarted._db.shared:
        assert interrupted == ["from-a"] and states == {"from-a": "Failure", "from-b": "Running"}
    else:  # one Orthanc per SQLite file: whatever another process left is dead
        assert interrupted == ["from-a", "from-b"] and set(states.values()) == {"Failure"}


def test_unnamed_nodes_never_take_each_others_live_jobs_for_dead(opener: Opener) -> None:
    first = JobStore(opener())
    first.insert(running("live"))
    second = JobStore(opener())  # another unnamed process on the same database
    interrupted = [r.id for r in second.interrupt_unfinished()]
    found = second.get("live")
    assert found is not None
    if first._db.shared:
        assert interrupted == [] and found.state == "Running"
    else:  # a SQLite file belongs to one Orthanc: another process is its next life
        assert interrupted == ["live"] and found.state == "Failure"


def test_an_interrupt_never_overwrites_a_job_that_finished_meanwhile(opener: Opener) -> None:
    database = opener()
    a, b = JobStore(database, node="A"), JobStore(opener(), node="B")
    record = running("j1")
    a.insert(record)
    age_heartbeat(database, "j1", 60)
    record.state, record.completed, record.content = "Success", 9.0, {"ID": "x"}
    a.update_state(record)
    seen = b.get("j1")
    assert seen is not None and seen.state == "Success" and seen.content == {"ID": "x"}
