"""The file a model is served from (`serving.npz`): plain arrays and a JSON header, no pickles,
read with numpy alone. Written at training time, read by the model store after its checksum."""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.screening.claims import REVISIONS
from app.screening.compiled import Block, LinearClassifier, TfWeighting
from app.screening.linear import LinearModel
from app.screening.tokenizers import Tokenizer, TokenizerSpec, UnsupportedModel

FORMAT = "akar-linear/1"


def write(model: LinearModel, path: Path) -> None:
    """Writes the model as one .npz of plain arrays (no pickles) with a JSON header."""
    meta = {
        "format": FORMAT,
        "tokenizers": [
            {
                "kind": t.spec.kind,
                "ngram_range": list(t.spec.ngram_range),
                "lowercase": t.spec.lowercase,
                "token_pattern": t.spec.token_pattern,
                "sublinear_tf": w.sublinear,
                "binary": w.binary,
            }
            for t, w in zip(model.tokenizers, model.weighting, strict=True)
        ],
        "classifiers": {
            name: {
                "labels": list(c.labels),
                "fields": list(c.fields),
                "max_chars": c.max_chars,
                "quality_claims": c.quality_claims,
                "without_origin": c.without_origin,
                "normalizer": c.normalizer,
                "intercept": c.intercept.tolist(),
                "evidence_cols": [c.evidence_cols.start, c.evidence_cols.stop],
                "blocks": [
                    {
                        "tokenizer": b.tokenizer,
                        "norm_col": b.norm_col,
                        "weight_cols": [b.weight_cols.start, b.weight_cols.stop],
                        "l2": b.l2,
                    }
                    for b in c.blocks
                ],
            }
            for name, c in model.classifiers.items()
        },
    }
    arrays: dict[str, np.ndarray] = {"meta": _encode(json.dumps(meta))}
    for i, (tok, table) in enumerate(zip(model.tokenizers, model.tables, strict=True)):
        if any("\x00" in t for t in tok.terms):
            raise UnsupportedModel("a term holds a NUL character")
        arrays[f"terms{i}"] = _encode("\x00".join(tok.terms))
        arrays[f"table{i}"] = table
    with path.open("wb") as f:
        np.savez(f, allow_pickle=False, **arrays)


def read(path: Path | BinaryIO) -> LinearModel:
    """From a `serving.npz` file, or its bytes already read (and verified)."""
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise UnsupportedModel(f"the serving artifact is not in format {FORMAT}")
        specs = meta["tokenizers"]
        terms = [npz[f"terms{i}"].tobytes().decode("utf-8") for i in range(len(specs))]
        tables = [npz[f"table{i}"] for i in range(len(specs))]
    tokenizers = []
    for spec, joined, table in zip(specs, terms, tables, strict=True):
        tok = Tokenizer(
            TokenizerSpec(
                spec["kind"],
                tuple(spec["ngram_range"]),
                spec["lowercase"],
                spec["token_pattern"],
            ),
            joined.split("\x00") if joined else [],
        )
        if table.ndim != 2 or len(table) != len(tok.terms):
            raise UnsupportedModel(f"{path}: a table does not match its terms")
        tokenizers.append(tok)
    for name, c in meta["classifiers"].items():
        if int(c.get("normalizer", 1)) not in REVISIONS:
            raise UnsupportedModel(f"{path}: {name} needs normaliser {c['normalizer']!r}")
    classifiers = {
        name: LinearClassifier(
            name=name,
            labels=tuple(c["labels"]),
            fields=tuple(c["fields"]),
            max_chars=int(c["max_chars"]),
            quality_claims=bool(c.get("quality_claims", False)),
            without_origin=bool(c.get("without_origin", False)),
            normalizer=int(c.get("normalizer", 1)),
            blocks=tuple(
                Block(b["tokenizer"], b["norm_col"], slice(*b["weight_cols"]), b["l2"])
                for b in c["blocks"]
            ),
            intercept=np.asarray(c["intercept"], dtype=np.float64),
            evidence_cols=slice(*c["evidence_cols"]),
        )
        for name, c in meta["classifiers"].items()
    }
    weighting = [TfWeighting(s["sublinear_tf"], s["binary"]) for s in specs]
    return LinearModel(tokenizers, tables, weighting, classifiers)


def _encode(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
