"""A reload round across workers, all or none (app/workers.py), with workers as threads."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from app.workers import RoundResult, WorkerGroup

# Two live processes stand for two workers (the group checks that a member's pid exists).
COORDINATOR, OTHER = os.getpid(), os.getppid()


class FakeWorker:
    """Serves a version; loads the next one beside it, or fails to."""

    def __init__(self, serving: str, fails: bool = False) -> None:
        self.serving, self.fails = serving, fails
        self.candidate: str | None = None

    def prepare(self) -> str:
        if self.fails:
            raise RuntimeError("policy file is not UTF-8")
        self.candidate = "m-2 p-2"
        return self.candidate

    def commit(self) -> None:
        assert self.candidate is not None
        self.serving, self.candidate = self.candidate, None

    def abort(self) -> None:
        self.candidate = None


def _round(
    tmp_path: Path, other: FakeWorker | None, *, timeout: float = 30
) -> tuple[RoundResult, FakeWorker]:
    me = FakeWorker("m-1 p-1")
    others: dict[int, tuple[WorkerGroup, FakeWorker]] = {}

    def notify(pid: int) -> None:  # SIGUSR1, as a thread in this test
        if pid in others:
            group, worker = others[pid]
            threading.Thread(target=group.on_notice, args=(worker,)).start()

    coordinator = WorkerGroup(tmp_path, pid=COORDINATOR, notify=notify, timeout=timeout)
    coordinator.join(me.serving)
    if other is not None:
        others[OTHER] = (WorkerGroup(tmp_path, pid=OTHER, timeout=timeout), other)
    WorkerGroup(tmp_path, pid=OTHER).join("m-1 p-1")
    return coordinator.coordinate(me), me


def test_every_worker_swaps_when_every_worker_could_load(tmp_path: Path) -> None:
    other = FakeWorker("m-1 p-1")
    result, me = _round(tmp_path, other)
    assert result.committed and result.failed == {}
    assert result.workers == {COORDINATOR: "m-2 p-2", OTHER: "m-2 p-2"}
    # Both swapped before the round returned.
    assert (me.serving, other.serving) == ("m-2 p-2", "m-2 p-2")


def test_no_worker_swaps_when_one_cannot_load(tmp_path: Path) -> None:
    other = FakeWorker("m-1 p-1", fails=True)
    result, me = _round(tmp_path, other)
    assert not result.committed
    assert result.failed == {OTHER: "failed: RuntimeError: policy file is not UTF-8"}
    assert (me.serving, other.serving) == ("m-1 p-1", "m-1 p-1")
    assert me.candidate is None  # what it prepared is dropped


def test_a_worker_that_does_not_answer_aborts_the_round(tmp_path: Path) -> None:
    result, me = _round(tmp_path, None, timeout=0.3)  # the other worker never acts
    assert not result.committed
    assert result.failed == {OTHER: "no answer within 0 s"}
    assert me.serving == "m-1 p-1"


def test_when_the_coordinator_cannot_load_nobody_is_asked(tmp_path: Path) -> None:
    asked: list[int] = []
    me = FakeWorker("m-1 p-1", fails=True)
    group = WorkerGroup(tmp_path, pid=COORDINATOR, notify=asked.append)
    group.join(me.serving)
    WorkerGroup(tmp_path, pid=OTHER).join("m-1 p-1")
    result = group.coordinate(me)
    assert not result.committed and asked == []
    assert list(result.failed) == [COORDINATOR]


def test_members_are_the_live_workers_and_what_they_serve(tmp_path: Path) -> None:
    WorkerGroup(tmp_path, pid=COORDINATOR).join("m-1 p-1")
    WorkerGroup(tmp_path, pid=OTHER).join("m-2 p-2")
    dead = WorkerGroup(tmp_path, pid=2**22 + 12345)  # above any pid this kernel gives
    dead.join("m-0 p-0")
    members = WorkerGroup(tmp_path, pid=COORDINATOR).members()
    assert members == dict(sorted({COORDINATOR: "m-1 p-1", OTHER: "m-2 p-2"}.items()))
    assert not (tmp_path / "members" / str(dead.pid)).exists()
