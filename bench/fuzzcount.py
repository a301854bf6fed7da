"""A pytest plugin for the long fuzz run: counts schemathesis' calls per operation.

    AKAR_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q -p bench.fuzzcount --hypothesis-show-statistics \
        tests/test_schema_fuzz.py tests/routes/test_v2.py tests/protocols/test_binary.py \
        tests/grpc_api/test_grpc_fuzz.py

(`make bench-fuzz`). The hand-written hypothesis tests report their own counts
(`--hypothesis-show-statistics`); the schema fuzz draws its cases inside one test per
operation, so its calls are counted here and printed at the end as `FUZZCOUNT` lines.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from schemathesis.generation.case import Case

COUNTS: Counter[str] = Counter()
_call_and_validate = Case.call_and_validate


def _counted(self: Case[Any], *args: Any, **kwargs: Any) -> Any:
    COUNTS[f"{self.method.upper()} {self.path}"] += 1
    return _call_and_validate(self, *args, **kwargs)


Case.call_and_validate = _counted  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for operation, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"FUZZCOUNT {operation}: {count}")
    terminalreporter.write_line(f"FUZZCOUNT total: {sum(COUNTS.values())}")
