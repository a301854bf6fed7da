"""The Java runtime PySpark gets (training/rescreen/java.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from training.rescreen.java import ensure_java


def test_without_a_system_java_the_spark_extras_runtime_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAVA_HOME", "")  # unset, as far as ensure_java reads; restored after
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine with no java on its PATH
    java_home = ensure_java()
    assert java_home is not None
    # The runtime PySpark's launcher will start ($JAVA_HOME/bin/java) runs, and is 17 or later.
    out = subprocess.run(
        [str(Path(java_home) / "bin" / "java"), "-version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    major = int(out.stderr.split('"')[1].split(".")[0])
    assert major >= 17


def test_a_system_java_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert ensure_java() is None
