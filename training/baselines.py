"""Baselines scored beside our model on the same listings: a keyword rule, plain TF-IDF with
logistic regression, and fastText. Each turns titles into the service's `Predictions`, so the
same metrics and the same policy decision apply to all of them.

TF-IDF and fastText train on the same pool as our model (real listings, hand-checked shops
left out) but without our authored examples, the normaliser, the char n-grams or the
category path: what they miss shows what those buy us.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from app.screening.model import CLUSTER_LABELS, ORIGIN_LABELS, Predictions
from app.screening.normalize import normalize
from training import mapping
from training.data import Example

SEED = 20211


class BaselineUnavailable(Exception):
    """The baseline cannot run here (optional package missing, training diverged)."""


class Baseline(Protocol):
    name: str
    description: str

    def fit(self, examples: Sequence[Example]) -> Baseline: ...

    def predict(self, titles: Sequence[str]) -> Predictions: ...


def _align(proba: np.ndarray, classes: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Columns reordered to `labels`; a class the training pool lacked gets probability 0."""
    out = np.zeros((proba.shape[0], len(labels)))
    for j, c in enumerate(classes):
        out[:, list(labels).index(c)] = proba[:, j]
    return out


# Checked in this order, so the taxonomy's boundary rules win: a woven bag is a bag (rule 1),
# a food souvenir is food (rule 2), and only then does a craft word count.
_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "textile_fashion",
        re.compile(
            r"\b(baju|kaos|kaus|kemeja|celana|rok|dress|gamis|jaket|hoodie|sweater|cardigan|"
            r"blouse|tunik|kebaya|batik|kain|tenun|songket|sarung|hijab|jilbab|kerudung|"
            r"pashmina|bergo|mukena|koko|sepatu|sandal|sneakers?|tas|dompet|ransel|topi|"
            r"kaos kaki|sprei|seprai|bed cover|handuk|gorden|taplak|piyama|daster|legging|"
            r"jersey|seragam|jeans|kalung|gelang|cincin|anting|jam tangan)\b"
        ),
    ),
    (
        "culinary",
        re.compile(
            r"\b(keripik|kripik|kue|cake|roti|snack|sambal|bumbu|rempah|kopi|teh|coklat|"
            r"cokelat|madu|susu|sirup|minuman|makanan|frozen|nugget|sosis|seblak|mie|bakso|"
            r"abon|rendang|dodol|kerupuk|krupuk|kacang|tepung|gula|beras|cemilan|camilan|"
            r"nastar|brownies|permen|kurma|selai|saus|kecap)\b"
        ),
    ),
    (
        "handicraft",
        re.compile(
            r"\b(anyam\w*|rotan|bambu|pandan|mendong|ukir\w*|jepara|gerabah|kasongan|"
            r"tanah liat|wayang|topeng|kerajinan|handmade|manik\w*|souvenir|suvenir|"
            r"miniatur|angklung|gamelan|rebana|kendang|kolintang|sasando|lukisan|"
            r"makrame|macrame|benang rajut|hakpen|flanel)\b"
        ),
    ),
)


def keyword_cluster(title: str) -> tuple[str, list[str]]:
    """(cluster, the keyword that decided it); `other` with no keyword when none matches."""
    text = normalize(title)
    for label, pattern in _KEYWORDS:
        m = pattern.search(text)
        if m:
            return label, [m.group(0)]
    return "other", []


class KeywordBaseline:
    """What a hand-written filter gets: no learning, no confidence (probabilities are 0 or 1)."""

    name = "keyword rule"
    description = (
        "cluster from a short keyword list per cluster (fashion words first, then food, then "
        "craft; else other); origin from `training.mapping.title_import_evidence`, the rule "
        "that made the weak origin labels. Probabilities are 0 or 1, so it never sends a "
        "listing to review and its ECE equals its error rate."
    )

    def fit(self, examples: Sequence[Example]) -> KeywordBaseline:
        return self

    def predict(self, titles: Sequence[str]) -> Predictions:
        cluster_proba = np.zeros((len(titles), len(CLUSTER_LABELS)))
        cluster_terms, origin_terms = [], []
        for i, title in enumerate(titles):
            label, terms = keyword_cluster(title)
            cluster_proba[i, CLUSTER_LABELS.index(label)] = 1.0
            cluster_terms.append(terms)
            origin_terms.append(mapping.title_import_evidence(title))
        import_proba = np.array([1.0 if t else 0.0 for t in origin_terms])
        return Predictions(cluster_proba, import_proba, cluster_terms, origin_terms)


def _tfidf_lr() -> Pipeline:
    # scikit-learn defaults except class weights, which our model uses too: without them the
    # rare handicraft class is never predicted.
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )


class TfidfBaseline:
    name = "tf-idf + LR"
    description = (
        "word 1-2-gram TF-IDF (sklearn lower-casing, no normaliser, no char n-grams) and "
        "LogisticRegression (C=1, balanced class weights), titles only, trained on the same "
        "real-listing pool as our model without the authored examples. A second model of the "
        "same recipe, on the weak origin labels, gives P(import) for the decision figures."
    )

    def __init__(self) -> None:
        self.cluster_: Pipeline | None = None
        self.origin_: Pipeline | None = None

    def fit(self, examples: Sequence[Example]) -> TfidfBaseline:
        titles = [e.title for e in examples]
        origins = [e.origin for e in examples]
        if len(set(origins)) < 2:
            raise BaselineUnavailable("the training pool has a single origin class")
        self.cluster_ = _tfidf_lr().fit(titles, [e.cluster for e in examples])
        self.origin_ = _tfidf_lr().fit(titles, origins)
        return self

    def predict(self, titles: Sequence[str]) -> Predictions:
        if self.cluster_ is None or self.origin_ is None:
            raise RuntimeError("fit the baseline first")
        cluster = _align(
            self.cluster_.predict_proba(titles), list(self.cluster_.classes_), CLUSTER_LABELS
        )
        origin = _align(
            self.origin_.predict_proba(titles), list(self.origin_.classes_), ORIGIN_LABELS
        )
        empty: list[list[str]] = [[] for _ in titles]
        return Predictions(cluster, origin[:, 1], empty, list(empty))


# Usual settings for short-text classification with fastText, not tuned on our data.
# One thread and a fixed seed: with more threads fastText's training is not reproducible.
FASTTEXT_PARAMS: dict[str, Any] = {
    "dim": 50,
    "epoch": 10,
    "lr": 0.5,
    "wordNgrams": 2,
    "minCount": 1,
    "thread": 1,
    "seed": SEED,
    "verbose": 0,
}
_PREFIX = "__label__"


def _ft_text(title: str) -> str:
    # fastText reads one example per line and splits on whitespace only.
    return " ".join(title.lower().split())


def _import_fasttext() -> Any:
    try:
        import fasttext  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise BaselineUnavailable(
            "the optional package fasttext-numpy2 is not installed "
            "(`.venv/bin/pip install -e '.[bench]'`)"
        ) from exc
    return fasttext


class FastTextBaseline:
    name = "fastText"
    description = (
        "fastText supervised (fasttext-numpy2; "
        + ", ".join(f"{k}={v}" for k, v in FASTTEXT_PARAMS.items() if k != "verbose")
        + "), lower-cased titles, same pool as the TF-IDF baseline; a second fastText model "
        "on the weak origin labels gives P(import)."
    )

    def __init__(self) -> None:
        self.cluster_: Any = None
        self.origin_: Any = None

    def _train(self, ft: Any, texts: Sequence[str], labels: Sequence[str]) -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.txt"
            lines = (f"{_PREFIX}{y} {x}\n" for x, y in zip(texts, labels, strict=True))
            path.write_text("".join(lines), encoding="utf-8")
            try:
                return ft.train_supervised(input=str(path), **FASTTEXT_PARAMS)
            except RuntimeError as exc:  # "Encountered NaN": training diverged
                raise BaselineUnavailable(f"fastText training failed: {exc}") from exc

    def fit(self, examples: Sequence[Example]) -> FastTextBaseline:
        ft = _import_fasttext()
        texts = [_ft_text(e.title) for e in examples]
        self.cluster_ = self._train(ft, texts, [e.cluster for e in examples])
        self.origin_ = self._train(ft, texts, [e.origin for e in examples])
        return self

    @staticmethod
    def _proba(model: Any, texts: list[str], labels: Sequence[str]) -> np.ndarray:
        names, probs = model.predict(texts, k=-1)
        out = np.zeros((len(texts), len(labels)))
        for i, (row_names, row_probs) in enumerate(zip(names, probs, strict=True)):
            for name, p in zip(row_names, row_probs, strict=True):
                out[i, list(labels).index(name[len(_PREFIX) :])] = p
        # fastText's softmax is float32 and its rows miss 1 by rounding.
        normalised: np.ndarray = out / out.sum(axis=1, keepdims=True)
        return normalised

    def predict(self, titles: Sequence[str]) -> Predictions:
        if self.cluster_ is None or self.origin_ is None:
            raise RuntimeError("fit the baseline first")
        texts = [_ft_text(t) for t in titles]
        cluster = self._proba(self.cluster_, texts, CLUSTER_LABELS)
        origin = self._proba(self.origin_, texts, ORIGIN_LABELS)
        empty: list[list[str]] = [[] for _ in titles]
        return Predictions(cluster, origin[:, 1], empty, list(empty))


BASELINES: dict[str, type[KeywordBaseline] | type[TfidfBaseline] | type[FastTextBaseline]] = {
    "keyword": KeywordBaseline,
    "tfidf": TfidfBaseline,
    "fasttext": FastTextBaseline,
}
