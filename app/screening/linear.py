"""The served form of a model: TF-IDF + logistic regression as plain numpy arrays.

The scikit-learn Pipelines in `model.joblib` are the source of truth;
`app.screening.pipelines.compile_pipelines` turns them into this form at training time (and
checks that it reproduces them), and the service reads it from `serving.npz`
(`app.screening.linear_file`) with numpy alone: no scikit-learn import, no unpickling, no
per-call input validation. That is what makes a worker small, quick to start and quick to
answer.

The arithmetic is the Pipeline's: tokens are counted per listing (`app.screening.tokenizers`),
weighted (sublinear tf, idf), each vectoriser's block is l2-normalised, and the classifier
takes a dot product (`app.screening.compiled`). It is done in one table per tokeniser: row t
holds, for every Pipeline block that reads the tokeniser, term t's idf and its idf-scaled
coefficients, so a listing costs one gather per tokeniser and a few sums, and a batch the same
number of numpy calls as one listing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.screening.compiled import Block, LinearClassifier, TfWeighting, field_values
from app.screening.tokenizers import Counts, Tokenizer, UnsupportedModel, count_terms

EVIDENCE_TERMS = 3
# A term must move the score by at least this much (log-odds) to be shown as evidence.
MIN_TERM_WEIGHT = 0.15
# Larger batches are predicted in chunks of this many listings.
BATCH_CHUNK = 256
# ... and of at most this many characters of text (the normalised texts the classifiers
# read): a chunk's n-gram work, and so a call's memory, is bounded whatever the titles. Real
# titles (about 80 characters, read by two classifiers) fill 256 listings long before it.
CHUNK_CHARS = 128_000
# Batches predicted at once in one process: each holds one chunk's n-grams (about 90 bytes
# per character of text). One: a worker screens on one core under the GIL, so a second batch
# at once adds memory (the attack suite: 257 MB peak with two, 233 MB with one), not speed.
# Single listings (on the event loop) are never held back.
CONCURRENT_BATCHES = 1


def batch_chunks(
    sizes: Sequence[int], max_listings: int = BATCH_CHUNK, max_chars: int = CHUNK_CHARS
) -> list[slice]:
    """Consecutive slices covering every listing in order, each of at most `max_listings`
    listings and `max_chars` characters (`sizes`: each listing's), or one listing."""
    chunks: list[slice] = []
    start = chars = 0
    for i, size in enumerate(sizes):
        if i > start and (i - start == max_listings or chars + size > max_chars):
            chunks.append(slice(start, i))
            start, chars = i, 0
        chars += size
    chunks.append(slice(start, len(sizes)))  # the last (for no listings: the empty one)
    return chunks


@dataclass(frozen=True, slots=True)
class Predictions:
    cluster_proba: np.ndarray  # (n, len(cluster_labels)), rows sum to 1
    import_proba: np.ndarray  # (n,)
    cluster_terms: list[list[str]]  # terms that pushed the predicted cluster
    origin_terms: list[list[str]]  # terms that pushed towards import


@dataclass(frozen=True, slots=True)
class _One:
    """A tokeniser's terms of one text: ids, tf weights, table rows, and their sums."""

    ids: np.ndarray
    tf: np.ndarray
    rows: np.ndarray
    weighted: np.ndarray  # sum of tf x column: the scores' columns
    squared: np.ndarray  # sum of tf^2 x column: the squared norms' columns


@dataclass(slots=True)
class _Features:
    """A tokeniser's table gathered for one batch of texts, with the tf weights."""

    counts: Counts
    tf: np.ndarray
    rows: np.ndarray  # table[ids]
    norms: dict[int, np.ndarray] = field(default_factory=dict)  # by norm column


class LinearModel:
    """The cluster and origin classifiers of one artifact, in plain arrays.

    `arrays` holds, per tokeniser, its table (terms x columns); `classifiers` say which
    columns each Pipeline block uses. Built by `app.screening.compile` or `load`.
    """

    def __init__(
        self,
        tokenizers: Sequence[Tokenizer],
        tables: Sequence[np.ndarray],
        weighting: Sequence[TfWeighting],
        classifiers: Mapping[str, LinearClassifier],
    ) -> None:
        if set(classifiers) != {"cluster", "origin"}:
            raise UnsupportedModel("a model has a 'cluster' and an 'origin' classifier")
        self.tokenizers = list(tokenizers)
        self.tables = [np.ascontiguousarray(t, dtype=np.float64) for t in tables]
        self.weighting = list(weighting)
        self.classifiers = dict(classifiers)
        self.cluster = self.classifiers["cluster"]
        self.origin = self.classifiers["origin"]
        if not self.origin.binary:
            raise UnsupportedModel("the origin classifier must have two labels")
        self.cluster_labels = list(self.cluster.labels)
        # The fields any classifier reads, each read once per listing.
        self._fields = tuple(dict.fromkeys(f for c in self.classifiers.values() for f in c.fields))
        self._gate = threading.BoundedSemaphore(CONCURRENT_BATCHES)
        # The words of the word vocabularies are the words titles are made of: their
        # character n-grams are looked up now, so first sight of a listing costs less.
        words = [t for tok in self.tokenizers if tok.spec.kind == "word" for t in tok.terms]
        for tok in self.tokenizers:
            tok.remember(w for w in words if " " not in w)

    # -- prediction

    def predict(self, listings: Sequence[Any]) -> Predictions:
        """Probabilities and evidence terms, vectorised over the whole sequence."""
        n = len(listings)
        if n == 1:
            return self._predict_one(listings[0])
        # Chunks keep the gathered tables (terms x columns) small enough for the CPU cache, and
        # bound the memory one call takes; the gate bounds how many calls hold it at once.
        # Each listing's texts are made once, first: their lengths are what a chunk's n-gram
        # work grows with.
        texts = self._texts(listings)
        with self._gate:
            parts = [
                self._predict_batch({name: docs[c] for name, docs in texts.items()})
                for c in batch_chunks(text_sizes(texts))
            ]
        if len(parts) > 1:
            return Predictions(
                np.concatenate([p.cluster_proba for p in parts]),
                np.concatenate([p.import_proba for p in parts]),
                [t for p in parts for t in p.cluster_terms],
                [t for p in parts for t in p.origin_terms],
            )
        return parts[0]

    def _predict_one(self, listing: Any) -> Predictions:
        """`predict` for one listing, in as few numpy calls as it takes (each costs ~1 µs)."""
        texts: dict[tuple[Any, ...], str] = {}
        values = field_values(listing, self._fields)
        sums: dict[tuple[int, str], _One] = {}
        out: dict[str, tuple[np.ndarray, list[str]]] = {}
        for name, clf in self.classifiers.items():
            text = clf.text(values, texts)
            scores = clf.intercept.copy()
            first: tuple[_One, float] | None = None
            for block in clf.blocks:
                one = sums.get((block.tokenizer, text))
                if one is None:
                    one = sums[block.tokenizer, text] = self._one(block.tokenizer, text)
                norm = math.sqrt(one.squared[block.norm_col]) if block.l2 else 1.0
                norm = norm or 1.0
                scores += one.weighted[block.weight_cols] / norm
                if first is None:
                    first = (one, norm)
            proba = _probabilities_one(scores)
            terms: list[str] = []
            if first is not None:
                one, norm = first
                target = 0 if clf.binary else int(proba[0].argmax())
                contrib = one.tf * one.rows[:, clf.evidence_cols.start + target] / norm
                strong = np.flatnonzero(contrib >= MIN_TERM_WEIGHT)
                if len(strong):
                    # Largest contribution first, ties to the lower term id; a handful of
                    # terms, so sorted in Python.
                    ranked = sorted(
                        zip((-contrib[strong]).tolist(), one.ids[strong].tolist(), strict=True)
                    )
                    all_terms = self.tokenizers[clf.blocks[0].tokenizer].terms
                    terms = [all_terms[i] for _, i in ranked[:EVIDENCE_TERMS]]
            out[name] = (proba, terms)
        cluster_proba, cluster_terms = out["cluster"]
        origin_proba, origin_terms = out["origin"]
        return Predictions(cluster_proba, origin_proba[:, 1], [cluster_terms], [origin_terms])

    def _one(self, tokenizer: int, text: str) -> _One:
        ids, counts = _distinct(self.tokenizers[tokenizer].ids(text))
        tf = self.weighting[tokenizer].apply(counts)
        rows = self.tables[tokenizer][ids]
        return _One(ids, tf, rows, tf @ rows, (tf * tf) @ rows)

    def _predict_batch(self, texts: Mapping[str, list[str]]) -> Predictions:
        """`predict` of a chunk, from the text each classifier reads of each listing."""
        n = len(texts["cluster"])
        # Each distinct text is tokenised, counted and gathered once, whichever classifiers
        # read it: the cluster's and the origin's text differ only for listings with origin
        # words or a category. maps[name][i] is the distinct text classifier `name` reads
        # for listing i.
        index: dict[str, int] = {}
        maps: dict[str, np.ndarray] = {}
        for name, docs in texts.items():
            ids = (index.setdefault(text, len(index)) for text in docs)
            maps[name] = np.fromiter(ids, np.intp, count=n)
        distinct = list(index)
        u = len(distinct)
        features: dict[int, _Features] = {}
        out: dict[str, tuple[np.ndarray, list[list[str]]]] = {}
        for name, clf in self.classifiers.items():
            rows_of = maps[name]
            scores = np.zeros((n, len(clf.intercept)))
            for block in clf.blocks:
                feats = features.get(block.tokenizer)
                if feats is None:
                    feats = features[block.tokenizer] = self._features(block.tokenizer, distinct)
                scores += self._block_scores(feats, block, u)[rows_of]
            scores += clf.intercept
            proba = _probabilities(scores)
            evidence: list[list[str]] = []
            if n:
                first = clf.blocks[0]
                targets = np.full(u, -1, dtype=np.intp)  # -1: a text this one does not read
                targets[rows_of] = (
                    np.zeros(n, dtype=np.intp) if clf.binary else proba.argmax(axis=1)
                )
                by_text = self._evidence(
                    features[first.tokenizer], first, clf.evidence_cols, targets, u
                )
                evidence = [list(by_text[j]) for j in rows_of.tolist()]
            out[name] = (proba, evidence)
        cluster_proba, cluster_terms = out["cluster"]
        origin_proba, origin_terms = out["origin"]
        return Predictions(cluster_proba, origin_proba[:, 1], cluster_terms, origin_terms)

    def _texts(self, listings: Sequence[Any]) -> dict[str, list[str]]:
        """Per classifier, the text of each listing; a listing is normalised once."""
        memo: dict[tuple[Any, ...], str] = {}
        values = [field_values(listing, self._fields) for listing in listings]
        return {name: [clf.text(v, memo) for v in values] for name, clf in self.classifiers.items()}

    def _features(self, tokenizer: int, docs: Sequence[str]) -> _Features:
        counts = count_terms(self.tokenizers[tokenizer], docs)
        tf = self.weighting[tokenizer].apply(counts.counts)
        # np.take: the same rows as fancy indexing, in a third of the time.
        return _Features(counts, tf, np.take(self.tables[tokenizer], counts.ids, axis=0))

    def _norms(self, feats: _Features, block: Block, n: int) -> np.ndarray:
        found = feats.norms.get(block.norm_col)
        if found is not None:
            return found
        if not block.l2:
            norms = np.ones(n)
        else:
            # The l2 norm of the block's tf-idf: sqrt(sum over terms of tf^2 idf^2).
            squares = feats.tf * feats.tf * feats.rows[:, block.norm_col]
            norms = np.sqrt(_segment_sum(squares, feats.counts, n))
            norms[norms == 0.0] = 1.0
        feats.norms[block.norm_col] = norms
        return norms

    def _block_scores(self, feats: _Features, block: Block, n: int) -> np.ndarray:
        raw = _segment_sum(feats.tf[:, None] * feats.rows[:, block.weight_cols], feats.counts, n)
        scores: np.ndarray = raw / self._norms(feats, block, n)[:, None]
        return scores

    def _evidence(
        self, feats: _Features, block: Block, cols: slice, targets: np.ndarray, n: int
    ) -> list[list[str]]:
        """Per document, the first block's terms that pushed its target label most.

        Ties go to the lower term id (the alphabetical order, as the vectoriser's columns).
        """
        c = feats.counts
        norms = self._norms(feats, block, n)
        weights = feats.rows[:, cols]
        target = targets[c.doc]  # -1 for documents without a target: none of their terms
        contrib = feats.tf * weights[np.arange(len(c.ids)), target] / norms[c.doc]
        strong = (contrib >= MIN_TERM_WEIGHT) & (target >= 0)
        doc, ids, contrib = c.doc[strong], c.ids[strong], contrib[strong]
        terms = self.tokenizers[block.tokenizer].terms
        order = np.lexsort((ids, -contrib, doc))
        doc, ids = doc[order], ids[order]
        # Rank of each entry within its document; the first EVIDENCE_TERMS are shown.
        first = np.searchsorted(doc, doc, side="left")
        top = np.arange(len(doc)) - first < EVIDENCE_TERMS
        out: list[list[str]] = [[] for _ in range(n)]
        for d, i in zip(doc[top].tolist(), ids[top].tolist(), strict=True):
            out[d].append(terms[i])
        return out


def text_sizes(texts: Mapping[str, Sequence[str]]) -> list[int]:
    """Each listing's characters of text, over every classifier's text (`_texts`)."""
    return [sum(map(len, t)) for t in zip(*texts.values(), strict=True)]


def _distinct(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(ids, return_counts=True)` in four numpy calls: one listing's few hundred
    ids are sorted in microseconds, and np.unique's own steps would cost more than that."""
    ids = np.sort(ids)
    change = np.empty(len(ids) + 1, dtype=bool)  # where a run of equal ids starts or ends
    change[0] = change[-1] = True
    np.not_equal(ids[1:], ids[:-1], out=change[1:-1])
    edges = np.flatnonzero(change)
    return ids[edges[:-1]], edges[1:] - edges[:-1]


def _segment_sum(values: np.ndarray, counts: Counts, n: int) -> np.ndarray:
    """Sums of `values` (rows grouped by document) per document; 0 for empty documents."""
    sums = np.zeros((n, *values.shape[1:]))
    nonempty = counts.starts[:-1] < counts.starts[1:]
    if nonempty.any():
        # Each non-empty document's rows run up to the next non-empty document's first row.
        sums[nonempty] = np.add.reduceat(values, counts.starts[:-1][nonempty], axis=0)
    return sums


def _probabilities_one(scores: np.ndarray) -> np.ndarray:
    """`_probabilities` of one row of scores, with math on floats (numpy calls cost more)."""
    values = scores.tolist()
    if len(values) == 1:
        p = 1.0 / (1.0 + math.exp(-values[0]))
        return np.array([[1.0 - p, p]])
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = math.fsum(exps)
    return np.array([[e / total for e in exps]])


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """As LogisticRegression.predict_proba: sigmoid when binary, else softmax."""
    if scores.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores
