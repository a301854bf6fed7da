"""Shared by the benchmarks: real titles from ../shared/data and a description of the machine."""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def real_titles(seed: int = 4) -> list[str]:
    """Every distinct non-empty title of the four real sources, shuffled reproducibly."""
    from training.data import SHARED_DATA, SOURCES, load_source

    if not SHARED_DATA.is_dir():
        sys.exit(f"{SHARED_DATA} is missing: the benchmarks need the real titles")
    seen: dict[str, None] = {}
    for name in SOURCES:
        for example in load_source(name):
            title = " ".join(example.title.split())[:500]
            if title:
                seen.setdefault(title, None)
    titles = list(seen)
    random.Random(seed).shuffle(titles)
    return titles


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine(extra: dict[str, str] | None = None) -> list[str]:
    """Markdown bullet lines describing this machine and the library versions."""
    import numpy
    import scipy
    import sklearn

    lines = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    } | (extra or {})
    return [f"- {k}: {v}" for k, v in lines.items()]


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out
