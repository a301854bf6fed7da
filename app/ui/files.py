"""The evaluation files of the serving model that the page may show, by known name only.

They are looked up in the model folder, then in `reports/<version>/` beside the models folder
(where `python -m training evaluate` writes by default). A name not listed here is never
turned into a path, so a request cannot reach any other file.
"""

from __future__ import annotations

from pathlib import Path

# name -> media type
MODEL_FILES: dict[str, str] = {
    "report.html": "text/html; charset=utf-8",
    "confusion.png": "image/png",
    "reliability.png": "image/png",
    "MODEL_CARD.md": "text/plain; charset=utf-8",
}


def model_file(model_dir: Path, version: str, name: str) -> Path | None:
    """The file `name` for the model in `model_dir`, or None (unknown name, or not there)."""
    if name not in MODEL_FILES:
        return None
    model_dir = model_dir.absolute()
    for folder in (model_dir, model_dir.parent.parent / "reports" / version):
        path = folder / name
        if path.is_file():
            return path
    return None


def available(model_dir: Path, version: str) -> list[str]:
    """The known files present for this model, in MODEL_FILES order."""
    return [name for name in MODEL_FILES if model_file(model_dir, version, name) is not None]
