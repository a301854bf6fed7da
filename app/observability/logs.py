"""JSON log lines: one object per line, for log pipelines that parse rather than grep."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "akar_gate.access"


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...}` plus the record's `fields` (from `extra`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stdout(logging.Handler):
    """Writes to the current `sys.stdout` (looked up per line, so redirection works)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError, TypeError):  # a log line must never fail the request
            self.handleError(record)


def configure_access_logger(level: str = "info") -> logging.Logger:
    """The per-request logger writes JSON lines to stdout in every worker process, at `level`
    (AKAR_LOG_LEVEL): at "warning" only the 5xx lines (ERROR) remain.

    Worker processes started by uvicorn never run `configure_logging` (only the parent
    does), so the access logger brings its own handler instead of relying on the root's.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(h, _Stdout) for h in logger.handlers):
        handler = _Stdout()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])
