"""The one Settings class: every option comes from here, read from AKAR_* variables and,
when `AKAR_SETTINGS_FILE` names one, a settings file (TOML, YAML or JSON).

The file is what a running process can re-read: a reload (`POST /v1/admin/reload` or SIGHUP)
builds Settings again, so keys, model and policy changed in the file take effect without a
restart. Environment variables override the file.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

SHA256_HEX = r"^[0-9a-f]{64}$"
SETTINGS_FILE_VARIABLE = "AKAR_SETTINGS_FILE"


class SettingsFileError(ValueError):
    """The settings file cannot be read, is not a table, or names unknown settings."""


def read_settings_file(path: Path, known: set[str]) -> dict[str, Any]:
    """The settings in `path` (by extension: .toml, .yaml/.yml or .json), by field name."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise SettingsFileError(f"{path}: use .toml, .yaml, .yml or .json")
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        if isinstance(exc, SettingsFileError):
            raise
        raise SettingsFileError(f"{SETTINGS_FILE_VARIABLE}={path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsFileError(f"{path}: expected a table of settings")
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsFileError(f"{path}: unknown settings {unknown}; known: {sorted(known)}")
    return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AKAR_", env_file=None, extra="ignore")

    models_root: Path = Field(Path("models"), description="Folder of model versions.")
    model_dir: Path | None = Field(
        None, description="Model folder to serve; default: the one named in models_root/DEFAULT."
    )
    challenger_model_dir: Path | None = Field(
        None,
        description="A second model that scores every listing beside the serving one, after "
        "the answer is sent, with the same policy; the answer stays the serving model's. Its "
        "agreement is counted in akar_challenger_decisions_total.",
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
    max_inflight_bytes: int = Field(
        8 * 1_048_576,
        gt=0,
        description=(
            "Request bodies one worker holds at once, in bytes; past it a request gets 503 with "
            "Retry-After (bounds a worker's memory under many concurrent large batches)."
        ),
    )
    body_timeout_s: float = Field(
        10.0,
        gt=0,
        description=(
            "A request body sent in pieces may pause this long between them; past it, 408. Under "
            "the in-flight bound, bodies paused for 0.25 s are dropped (408) to make room."
        ),
    )
    max_json_depth: int = Field(
        32, gt=1, description="Request JSON nested deeper than this gets 400 (before parsing)."
    )
    api_key_sha256: list[Annotated[str, Field(pattern=SHA256_HEX)]] = Field(
        default_factory=list,
        description="SHA-256 (hex) of the API keys allowed to screen, as a JSON list; empty: "
        "screening needs no key. Keys are sent as 'Authorization: Bearer <key>'.",
    )
    admin_key_sha256: list[Annotated[str, Field(pattern=SHA256_HEX)]] = Field(
        default_factory=list,
        description="SHA-256 (hex) of the keys with admin scope (reload); they may also screen. "
        "Empty: the admin endpoints refuse every request.",
    )
    shutdown_drain_seconds: float = Field(
        0.0,
        ge=0,
        le=120,
        description="On SIGTERM, answer /readyz with 503 for this long before the server stops "
        "accepting connections, so load balancers take the instance out first.",
    )
    settings_file: Path | None = Field(
        None,
        description="A TOML, YAML or JSON file of these settings (names without the AKAR_ "
        "prefix), re-read on every reload; environment variables override it.",
    )
    grpc_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port of the Open Inference Protocol over gRPC (GRPCInferenceService and "
        "grpc.health.v1), served by every worker beside HTTP; unset: no gRPC.",
    )
    grpc_host: str = Field(
        "127.0.0.1", description="Address gRPC listens on (0.0.0.0: every interface)."
    )
    grpc_max_concurrent_rpcs: int = Field(
        32,
        gt=0,
        description="gRPC calls one worker takes at once; past it RESOURCE_EXHAUSTED. Received "
        "messages also count against max_inflight_bytes with HTTP's bodies (past it UNAVAILABLE).",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info",
        description="Log level of the JSON log lines on stderr and of the per-request access "
        "lines on stdout: at warning, only the 5xx access lines are written.",
    )
    log_listing_text: bool = Field(
        False,
        description="Debugging only: put the screened titles in the per-request log line. "
        "Off, logs carry no listing text.",
    )
    prometheus_multiproc_dir: Path | None = Field(
        None,
        # prometheus-client's own variable (it reads it at import to choose its value store),
        # so it has no AKAR_ prefix.
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR"),
        description="Set: metrics in multiprocess mode, shared by all workers through files "
        "in this folder (empty it before the server starts). Unset: one process's metrics.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(SETTINGS_FILE_VARIABLE)
        if not path:
            return (init_settings, env_settings)
        known = set(settings_cls.model_fields) - {"settings_file", "prometheus_multiproc_dir"}
        from_file = read_settings_file(Path(path), known)
        return (init_settings, env_settings, InitSettingsSource(settings_cls, from_file))


@lru_cache
def get_settings() -> Settings:
    return Settings()


# -- the settings reference (docs/operations.md) ------------------------------------------------

REFERENCE_BEGIN = "<!-- settings reference: made by `make docs` from app/config.py -->"
REFERENCE_END = "<!-- end of the settings reference -->"


def settings_reference() -> str:
    """Every setting as a Markdown table row: its variable, default and description."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        variable = alias.choices[0] if isinstance(alias, AliasChoices) else f"AKAR_{name.upper()}"
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default in (None, []) else f"`{default}`"
        what = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{variable}` | {shown} | {what} |")
    return "\n".join(rows)


def write_settings_reference(path: Path) -> None:
    """Replaces the reference between its markers in `path` with the current one."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(REFERENCE_BEGIN, 1)
    _, tail = rest.split(REFERENCE_END, 1)
    block = f"{REFERENCE_BEGIN}\n{settings_reference()}\n{REFERENCE_END}"
    path.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":  # `make docs`: python -m app.config docs/operations.md
    import sys

    write_settings_reference(Path(sys.argv[1]))
