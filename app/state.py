"""What the service holds while it runs: the active screener and keys, or why there is none.

A reload builds the new screener beside the old one (verified, self-checked) and swaps one
reference: a request that already took the old screener finishes on it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from app.config import Settings
from app.errors import AkarError, NotReadyError, ReloadError
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir
from app.security import KeyRing
from app.workers import WorkerGroup

logger = logging.getLogger("akar_gate")


def _build(settings: Settings) -> tuple[Screener, KeyRing]:
    model_dir = resolve_model_dir(settings.model_dir, settings.models_root)
    loaded = load_model(model_dir)
    policy = load_policy(settings.policy_path)
    keys = KeyRing(settings.api_key_sha256, settings.admin_key_sha256)
    challenger = None
    if settings.challenger_model_dir is not None:
        challenger = Screener(load_model(settings.challenger_model_dir), policy)
    return Screener(loaded, policy, challenger), keys


class LoadListener(Protocol):
    """Told about every load and reload (the metrics implement it)."""

    def record_model_load(
        self, model_version: str, policy_version: str, policy_mode: str
    ) -> None: ...

    def record_model_load_failure(self) -> None: ...

    def set_ready(self, ready: bool) -> None: ...


@dataclass
class ServiceState:
    settings_source: Callable[[], Settings]
    listener: LoadListener | None = None
    screener: Screener | None = None
    keys: KeyRing = field(default_factory=lambda: KeyRing((), ()))
    not_ready_reason: str | None = "starting"
    # Set on SIGTERM: readiness turns 503 while the server drains.
    shutting_down: threading.Event = field(default_factory=threading.Event)
    # With several workers (python -m app --workers N): a reload reaches all of them, or none.
    group: WorkerGroup | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _candidate: tuple[Screener, KeyRing] | None = field(default=None, repr=False)

    def load(self) -> None:
        """First load at start-up; on failure records the reason and raises."""
        settings = self.settings_source()
        self.keys = KeyRing(settings.api_key_sha256, settings.admin_key_sha256)
        try:
            self.screener, self.keys = _build(settings)
        except AkarError as exc:
            self.not_ready_reason = f"{exc.code}: {exc}"
            logger.error("model or policy not loaded: %s", self.not_ready_reason)
            self._loaded(None)
            raise
        except Exception as exc:
            # Whatever else a load raises leaves the process up and not ready, as documented
            # for AKAR_REQUIRE_MODEL=false, instead of ending it.
            self.not_ready_reason = f"{type(exc).__name__}: {exc}"
            logger.exception("model or policy not loaded")
            self._loaded(None)
            raise NotReadyError(self.not_ready_reason) from exc
        self.not_ready_reason = None
        self._loaded(self.screener)

    @property
    def serving(self) -> str:
        """What serves, as "model policy" (or "nothing")."""
        s = self.screener
        return f"{s.model_version} {s.policy.version}" if s else "nothing"

    def reload(self) -> Screener:
        """Re-reads settings, loads model and policy beside the old, then swaps: in this
        worker, or in every worker of its group (all or none). On failure the old screener
        keeps serving and ReloadError says why (with a group: which workers failed)."""
        if self.group is not None:
            return self._reload_group(self.group)
        with self._lock:
            serving = self.screener.model_version if self.screener else "nothing"
            try:
                screener, keys = _build(self.settings_source())
            except AkarError as exc:
                logger.error("reload failed, still serving %s: %s: %s", serving, exc.code, exc)
                self._loaded(None)
                raise ReloadError(f"{exc.code}: {exc} (still serving {serving})") from exc
            except Exception as exc:
                # Anything else a load raises (settings that no longer validate, a bug) is a
                # failed reload too: logged with its cause, counted, the old model serving on.
                logger.exception("reload failed, still serving %s", serving)
                self._loaded(None)
                raise ReloadError(f"{type(exc).__name__}: {exc} (still serving {serving})") from exc
            self.screener, self.keys = screener, keys
            self.not_ready_reason = None
            self._loaded(screener)
            return screener

    def _reload_group(self, group: WorkerGroup) -> Screener:
        before = self.serving
        result = group.coordinate(self)
        if not result.committed:
            why = "; ".join(f"worker {pid}: {text}" for pid, text in result.failed.items())
            raise ReloadError(
                f"reload failed in {len(result.failed)} of {len(result.workers)} workers, "
                f"every worker still serves what it served ({before}): {why}"
            )
        return self.require()

    # The worker group's round (see app/workers.py): prepare beside, then commit or abort.

    def prepare(self) -> str:
        try:
            self._candidate = _build(self.settings_source())
        except Exception:
            logger.exception("reload: this worker cannot load the new model or policy")
            self._loaded(None)
            raise
        screener = self._candidate[0]
        return f"{screener.model_version} {screener.policy.version}"

    def commit(self) -> None:
        if self._candidate is None:
            return  # nothing prepared here (it failed): the round was aborted for all
        (self.screener, self.keys), self._candidate = self._candidate, None
        self.not_ready_reason = None
        self._loaded(self.screener)

    def abort(self) -> None:
        self._candidate = None

    def _loaded(self, screener: Screener | None) -> None:
        """Logs and tells the listener what now serves (None: a load failed)."""
        if self.listener is not None:
            self.listener.set_ready(self.ready_reason is None)
        if screener is None:
            if self.listener is not None:
                self.listener.record_model_load_failure()
            return
        # The model lives as long as it serves: out of the cyclic garbage collector's sight, so
        # that a full collection (triggered by whatever request allocates next) does not walk
        # its objects: about 22 ms a collection otherwise. gc.freeze() is a list splice, O(1);
        # what an earlier model leaves behind is freed by reference counting.
        gc.freeze()
        p = screener.policy
        logger.info(
            "serving model %s (%s) with policy %s (%s)",
            screener.model_version,
            screener.loaded.path,
            p.version,
            p.mode,
        )
        if self.listener is not None:
            self.listener.record_model_load(screener.model_version, p.version, p.mode)
        if self.group is not None:
            self.group.join(self.serving)

    def shut_down(self) -> None:
        """From now on not ready (SIGTERM: load balancers take the instance out first)."""
        self.shutting_down.set()
        if self.listener is not None:
            self.listener.set_ready(False)

    @property
    def ready_reason(self) -> str | None:
        """None when ready; otherwise why not."""
        if self.shutting_down.is_set():
            return "shutting down"
        return None if self.screener is not None else self.not_ready_reason

    def require(self) -> Screener:
        screener = self.screener
        if screener is None:
            raise NotReadyError(f"no model is loaded: {self.not_ready_reason}")
        return screener
