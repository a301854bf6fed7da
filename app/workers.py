"""Several worker processes, one model: a reload reaches every worker, or none.

`python -m app --workers N` gives its workers a shared folder (`AKAR_WORKER_GROUP_DIR`). A
reload (the admin route in any worker, SIGHUP to any worker, or SIGHUP to the main process,
which hands it to one worker) is coordinated by the worker that received it, in two phases,
through files in that folder and SIGUSR1 to the other workers:

1. prepare: every worker loads and verifies the new model and policy beside the one it
   serves, and writes whether it could;
2. commit (every worker could) or abort (one could not, or did not answer in time): every
   worker swaps in, or drops, what it prepared, and writes that it did.

The coordinator answers only once every worker has committed (or aborted), so after a
successful reload returns no worker answers with the old model. One round at a time (a lock
file). Files, not shared memory: a worker that dies mid-round is seen as gone (its pid no
longer exists), never waited for past the timeout.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

logger = logging.getLogger("akar_gate")

GROUP_DIR_VARIABLE = "AKAR_WORKER_GROUP_DIR"
# How long the coordinator waits for the other workers in each phase: a load takes about a
# second; a worker that has not answered by then is counted as failed (prepare) or gone.
PHASE_TIMEOUT = 60.0
_POLL = 0.01
_COMMIT, _ABORT = "commit", "abort"


class Participant(Protocol):
    """What a worker does in a round (ServiceState implements it)."""

    def prepare(self) -> str:
        """Loads the new model and policy beside the served ones; returns what it will serve
        ("model policy"). Raises on failure (the message is reported)."""
        ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


@dataclass(frozen=True)
class RoundResult:
    committed: bool
    # Each worker's answer to prepare, by pid: what it serves after commit, or why it failed.
    workers: dict[int, str]
    failed: dict[int, str]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, text: str) -> None:
    """Atomically: a reader sees the whole file or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _sigusr1(pid: int) -> None:
    os.kill(pid, signal.SIGUSR1)


class WorkerGroup:
    """This worker's view of the group: who the others are, and the rounds' files."""

    def __init__(
        self,
        directory: Path,
        *,
        pid: int | None = None,
        notify: Callable[[int], None] = _sigusr1,
        timeout: float = PHASE_TIMEOUT,
    ) -> None:
        self.directory = directory
        self.pid = os.getpid() if pid is None else pid
        self.notify = notify
        self.timeout = timeout
        self._members = directory / "members"
        self._rounds = directory / "rounds"
        self._members.mkdir(parents=True, exist_ok=True)
        self._rounds.mkdir(parents=True, exist_ok=True)
        self._local = threading.Lock()  # one round step at a time in this process

    # -- membership

    def join(self, serving: str) -> None:
        """Announces this worker (and what it serves) to the group."""
        _write(self._members / str(self.pid), serving)

    def leave(self) -> None:
        (self._members / str(self.pid)).unlink(missing_ok=True)

    def members(self) -> dict[int, str]:
        """Live workers and what each serves; files of dead ones are removed."""
        found: dict[int, str] = {}
        for path in self._members.iterdir():
            if not path.name.isdigit():
                continue
            pid = int(path.name)
            if pid != self.pid and not _alive(pid):
                path.unlink(missing_ok=True)
                continue
            try:
                found[pid] = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
        return dict(sorted(found.items()))

    # -- the coordinator's side

    def coordinate(self, me: Participant) -> RoundResult:
        """Runs one round from this worker; returns when every worker has acted on it."""
        with (self.directory / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._round(me)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _round(self, me: Participant) -> RoundResult:
        round_dir = self._rounds / uuid.uuid4().hex
        round_dir.mkdir()
        _write(self.directory / "current", round_dir.name)
        others = [pid for pid in self.members() if pid != self.pid]
        with self._local:
            mine = _prepared(me)
            _write(round_dir / f"{self.pid}.prepared", mine)
        if mine.startswith("ok "):
            for pid in others:
                self.notify(pid)
            answers = self._wait(round_dir, "prepared", [self.pid, *others])
        else:  # this worker cannot load it: nobody else needs to try
            answers = {self.pid: mine}
            others = []
        failed = {pid: text for pid, text in answers.items() if not text.startswith("ok ")}
        decision = _COMMIT if not failed else _ABORT
        _write(round_dir / "decision", decision)
        for pid in others:
            self.notify(pid)
        with self._local:
            _act(me, decision)
            _write(round_dir / f"{self.pid}.done", decision)
        # Those that answered prepare act on the decision; wait for them to confirm.
        answered = [pid for pid in others if (round_dir / f"{pid}.prepared").exists()]
        done = self._wait(round_dir, "done", answered)
        gone = {pid: f"did not confirm: {text}" for pid, text in done.items() if text != decision}
        if gone:
            logger.error("reload round %s: workers did not confirm: %s", round_dir.name, gone)
        workers = {pid: text.removeprefix("ok ") for pid, text in answers.items()}
        return RoundResult(decision == _COMMIT, workers, failed | gone)

    def _wait(self, round_dir: Path, phase: str, pids: list[int]) -> dict[int, str]:
        """Each worker's file of this phase; missing ones, when the timeout passes or the
        worker is gone, as an explanation."""
        deadline = time.monotonic() + self.timeout
        answers: dict[int, str] = {}
        while True:
            for pid in pids:
                if pid in answers:
                    continue
                path = round_dir / f"{pid}.{phase}"
                if path.exists():
                    answers[pid] = path.read_text(encoding="utf-8")
                elif not _alive(pid):
                    answers[pid] = "worker exited during the reload"
            if len(answers) == len(pids):
                return answers
            if time.monotonic() > deadline:
                for pid in pids:
                    answers.setdefault(pid, f"no answer within {self.timeout:.0f} s")
                return answers
            time.sleep(_POLL)

    # -- a participant's side (on SIGUSR1, in a thread)

    def on_notice(self, me: Participant) -> None:
        """Does what the current round asks of this worker and has not been done yet."""
        with self._local:
            try:
                name = (self.directory / "current").read_text(encoding="utf-8")
            except FileNotFoundError:
                return
            round_dir = self._rounds / name
            prepared = round_dir / f"{self.pid}.prepared"
            if not prepared.exists():
                _write(prepared, _prepared(me))
            decision_file, done = round_dir / "decision", round_dir / f"{self.pid}.done"
            if decision_file.exists() and not done.exists():
                decision = decision_file.read_text(encoding="utf-8")
                _act(me, decision)
                _write(done, decision)


def _prepared(me: Participant) -> str:
    try:
        return f"ok {me.prepare()}"
    except Exception as exc:  # any load failure is this worker's answer, not a crash
        return f"failed: {type(exc).__name__}: {exc}"


def _act(me: Participant, decision: str) -> None:
    if decision == _COMMIT:
        me.commit()
    else:
        me.abort()


def group_from_environment() -> WorkerGroup | None:
    """The group `python -m app --workers N` set up for its workers, if any."""
    directory = os.environ.get(GROUP_DIR_VARIABLE)
    return WorkerGroup(Path(directory)) if directory else None
