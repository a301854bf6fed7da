from __future__ import annotations

import json
import logging

from app.observability.logs import ACCESS_LOGGER, JsonFormatter, configure_access_logger


def _record(**kwargs: object) -> logging.LogRecord:
    record = logging.LogRecord("akar_gate", logging.WARNING, __file__, 1, "load %s", ("x",), None)
    record.created = 0.0
    for name, value in kwargs.items():
        setattr(record, name, value)
    return record


def test_a_record_becomes_one_json_object() -> None:
    line = JsonFormatter().format(_record(fields={"request_id": "r1", "status": 200}))
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "1970-01-01T00:00:00.000+00:00",
        "level": "WARNING",
        "logger": "akar_gate",
        "message": "load x",
        "request_id": "r1",
        "status": 200,
    }


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record(exc_info=sys.exc_info())
    body = json.loads(JsonFormatter().format(record))
    assert body["exception"].startswith("Traceback")
    assert body["exception"].endswith("ValueError: boom")


def test_the_access_logger_gets_its_handler_once() -> None:
    first = configure_access_logger()
    second = configure_access_logger()
    assert first is second is logging.getLogger(ACCESS_LOGGER)
    assert len([h for h in first.handlers if isinstance(h.formatter, JsonFormatter)]) == 1
    assert first.propagate is False
