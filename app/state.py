"""What the service holds while it runs: the active screener, or why there is none."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.config import Settings
from app.errors import AkarError, NotReadyError
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir

logger = logging.getLogger("akar_gate")


@dataclass
class ServiceState:
    screener: Screener | None = None
    not_ready_reason: str | None = "starting"

    def load(self, settings: Settings) -> None:
        """Loads model and policy (verified, self-checked); on failure records the reason."""
        try:
            model_dir = resolve_model_dir(settings.model_dir, settings.models_root)
            loaded = load_model(model_dir)
            policy = load_policy(settings.policy_path)
        except AkarError as exc:
            self.not_ready_reason = f"{exc.code}: {exc}"
            logger.error("model or policy not loaded: %s", self.not_ready_reason)
            raise
        self.screener = Screener(loaded, policy)
        self.not_ready_reason = None
        logger.info(
            "serving model %s (%s) with policy %s (%s)",
            loaded.version,
            model_dir,
            policy.version,
            policy.mode,
        )

    def require(self) -> Screener:
        if self.screener is None:
            raise NotReadyError(f"no model is loaded: {self.not_ready_reason}")
        return self.screener
