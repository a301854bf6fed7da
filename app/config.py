"""The one Settings class: every option comes from here, read from AKAR_* variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AKAR_", env_file=None, extra="ignore")

    models_root: Path = Field(Path("models"), description="Folder of model versions.")
    model_dir: Path | None = Field(
        None, description="Model folder to serve; default: the one named in models_root/DEFAULT."
    )
    policy_path: Path | None = Field(
        None, description="Policy file (YAML or JSON); default: the packaged default policy."
    )
    require_model: bool = Field(
        True,
        description="Exit at start-up when the model or policy cannot be loaded. When false, "
        "the process stays up with /readyz answering 503 and the reason.",
    )
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger request bodies get 413.")
    log_level: str = "info"


@lru_cache
def get_settings() -> Settings:
    return Settings()
