"""A fitted text Pipeline compiled into plain arrays and dicts, for fast prediction.

scikit-learn validates its input and builds several sparse matrices on every call, which costs
milliseconds for one listing. The arithmetic is small: look the n-grams up in the vocabulary,
weight them (sublinear tf, idf), l2-normalise each vectoriser's block, and take a dot product
with the coefficients. `compile_pipeline` reads the fitted state once; `CompiledModel` runs the
pipelines of one artifact together, so a listing is normalised and tokenised once, not once
per pipeline and vectoriser. Tokenisation is the vectoriser's own `build_analyzer()`, and the
Pipeline stays the source of truth: anything this module does not reproduce exactly raises
`UnsupportedPipeline`, and the caller keeps the scikit-learn path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.screening.text import ListingText, _field, compose


class UnsupportedPipeline(Exception):
    """The Pipeline has a step or setting this module does not reproduce."""


@dataclass(frozen=True, slots=True)
class Rows:
    """Feature rows in CSR form (indptr, indices, data), as `scipy.sparse.csr_matrix` holds them."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int

    @classmethod
    def from_csr(cls, x: sparse.csr_matrix) -> Rows:
        x = sparse.csr_matrix(x)
        return cls(x.indptr, x.indices, x.data, x.shape[1])

    def to_csr(self) -> sparse.csr_matrix:
        shape = (len(self.indptr) - 1, self.n_features)
        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=shape)


def _analyzer_key(vec: TfidfVectorizer) -> Hashable:
    """Vectorisers with equal keys produce equal tokens for equal text, so they share them."""
    if callable(vec.analyzer) or vec.preprocessor is not None or vec.tokenizer is not None:
        return ("own", id(vec))
    stop = vec.stop_words
    return (
        vec.analyzer,
        tuple(vec.ngram_range),
        vec.lowercase,
        vec.strip_accents,
        vec.token_pattern if vec.analyzer == "word" else None,
        tuple(sorted(stop)) if isinstance(stop, list | tuple | set | frozenset) else stop,
        vec.encoding,
        vec.decode_error,
    )


# Words whose character n-grams are remembered (a few hundred bytes each); cleared when full.
WORD_CACHE_SIZE = 100_000


class _Analyzer:
    """One tokeniser and the union of the vocabularies of the vectorisers that use it.

    Terms get ids in that union, so a text is tokenised and looked up once however many
    vectorisers (of however many Pipelines) read it. Unknown terms get id -1, which indexes
    the last slot of every per-block table: a slot that is not a feature.

    A `char_wb` analyzer makes the n-grams of each whitespace-separated word on its own (padded
    with spaces), so the text's n-grams are its words' n-grams put together: those are kept per
    word, and a new title made of words seen before costs no tokenising.
    """

    def __init__(self, vec: TfidfVectorizer) -> None:
        self.analyze: Callable[[str], list[str]] = vec.build_analyzer()
        self.term_ids: dict[str, int] = {}
        self.per_word = (
            vec.analyzer == "char_wb" and vec.preprocessor is None and not vec.strip_accents
        )
        self._words: dict[str, list[int]] = {}

    def add(self, vocabulary: Mapping[str, int]) -> None:
        term_ids = self.term_ids
        new = [term for term in vocabulary if term not in term_ids]
        term_ids.update(zip(new, range(len(term_ids), len(term_ids) + len(new)), strict=True))

    def count(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of the distinct terms of one text."""
        if not self.per_word:
            counts = Counter(self.analyze(text))
            return _arrays(map(self.term_ids.get, counts, repeat(-1)), counts.values(), len(counts))
        ids: list[int] = []
        cache = self._words
        for word in text.split():
            known = cache.get(word)
            if known is None:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                found = map(self.term_ids.get, self.analyze(word), repeat(-1))
                known = cache[word] = [i for i in found if i >= 0]
            ids += known
        id_counts = Counter(ids)
        return _arrays(id_counts, id_counts.values(), len(id_counts))


def _arrays(ids: Iterable[int], counts: Iterable[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.fromiter(ids, np.intp, count=n), np.fromiter(counts, np.float64, count=n)


def _parts(pipeline: Any) -> tuple[ListingText, list[Any], LogisticRegression]:
    """The steps of a supported Pipeline, or UnsupportedPipeline saying what differs."""
    steps = getattr(pipeline, "steps", None)
    if type(pipeline) is not Pipeline or steps is None or len(steps) != 3:
        raise UnsupportedPipeline("expected a Pipeline of exactly three steps")
    text, union, clf = (step for _, step in steps)
    if type(text) is not ListingText:
        raise UnsupportedPipeline("first step is not ListingText")
    if type(union) is not FeatureUnion or union.transformer_weights is not None:
        raise UnsupportedPipeline("second step is not an unweighted FeatureUnion")
    if type(clf) is not LogisticRegression or not hasattr(clf, "coef_"):
        raise UnsupportedPipeline("last step is not a fitted LogisticRegression")
    vectorizers = [vec for _, vec in union.transformer_list]
    for vec in vectorizers:
        if type(vec) is not TfidfVectorizer or not hasattr(vec, "vocabulary_"):
            name = type(vec).__name__
            raise UnsupportedPipeline(f"feature step {name} is not a fitted TfidfVectorizer")
        if vec.norm not in ("l2", None) or np.dtype(vec.dtype) != np.float64:
            raise UnsupportedPipeline(f"norm={vec.norm!r}, dtype={vec.dtype!r} not supported")
        if vec.input != "content":
            raise UnsupportedPipeline("only input='content' is supported")
    return text, vectorizers, clf


def shared_analyzers(pipelines: Iterable[Pipeline]) -> dict[Hashable, _Analyzer]:
    """The tokenisers of these Pipelines, each with every vocabulary that it feeds.

    All vocabularies are registered before any block is compiled, so term ids are final.
    """
    analyzers: dict[Hashable, _Analyzer] = {}
    for pipeline in pipelines:
        for vec in _parts(pipeline)[1]:
            key = _analyzer_key(vec)
            if key not in analyzers:
                analyzers[key] = _Analyzer(vec)
            analyzers[key].add(vec.vocabulary_)
    return analyzers


@dataclass(frozen=True, slots=True)
class _Block:
    analyzer: _Analyzer
    # Indexed by analyzer term id, plus a last slot for id -1 (unknown term):
    col_of: np.ndarray  # the term's column in this vectoriser, -1 if not one of its features
    idf: np.ndarray  # by column; ones when the vectoriser has no idf
    sublinear: bool
    binary: bool
    l2: bool
    offset: int  # the block's first column in the FeatureUnion output


def _compile_block(vec: TfidfVectorizer, offset: int, analyzer: _Analyzer) -> _Block:
    vocabulary: dict[str, int] = vec.vocabulary_
    n = len(vocabulary)
    idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else np.ones(n)
    cols = np.fromiter(vocabulary.values(), np.intp, count=n)
    if idf.shape != (n,) or not np.array_equal(np.sort(cols), np.arange(n)):
        raise UnsupportedPipeline("vocabulary and idf do not line up")
    col_of = np.full(len(analyzer.term_ids) + 1, -1, dtype=np.intp)
    try:
        ids = np.fromiter(map(analyzer.term_ids.__getitem__, vocabulary), np.intp, count=n)
    except KeyError as exc:
        raise UnsupportedPipeline("vocabulary was not registered with its analyzer") from exc
    col_of[ids] = cols
    return _Block(
        analyzer=analyzer,
        col_of=col_of,
        idf=idf,
        sublinear=bool(vec.sublinear_tf),
        binary=bool(vec.binary),
        l2=vec.norm == "l2",
        offset=offset,
    )


class CompiledPipeline:
    """One `ListingText -> FeatureUnion(TfidfVectorizer, ...) -> LogisticRegression` Pipeline.

    Pipelines compiled with the same `shared_analyzers(...)` share tokenisation
    (see `CompiledModel`).
    """

    def __init__(
        self, pipeline: Pipeline, analyzers: dict[Hashable, _Analyzer] | None = None
    ) -> None:
        analyzers = shared_analyzers([pipeline]) if analyzers is None else analyzers
        text, vectorizers, clf = _parts(pipeline)
        self.fields: tuple[str, ...] = tuple(text.fields)
        self.max_chars: int = int(text.max_chars)
        self.blocks: list[_Block] = []
        offset = 0
        for vec in vectorizers:
            analyzer = analyzers.get(_analyzer_key(vec))
            if analyzer is None:
                raise UnsupportedPipeline("a vectoriser's analyzer was not registered")
            self.blocks.append(_compile_block(vec, offset, analyzer))
            offset += len(vec.vocabulary_)
        self.n_features = offset
        coef = clf.coef_
        if not isinstance(coef, np.ndarray) or coef.ndim != 2 or coef.shape[1] != offset:
            raise UnsupportedPipeline("coef_ is not a dense array over the union's features")
        n_classes = len(clf.classes_)
        self.binary = n_classes == 2
        if coef.shape[0] != (1 if self.binary else n_classes):
            raise UnsupportedPipeline(f"coef_ shape {coef.shape} for {n_classes} classes")
        # Row j holds feature j's weight for each class: one gather per listing.
        self.coef_t = np.ascontiguousarray(coef.T, dtype=np.float64)
        self.intercept = np.asarray(clf.intercept_, dtype=np.float64).reshape(-1)

    def rows(self, texts: Sequence[str], counts: _TokenCounts | None = None) -> Rows:
        """The FeatureUnion's output for these (already normalised) texts.

        Within a row the columns are not sorted (scikit-learn sorts them); neither the matrix
        nor any product with it changes.
        """
        counts = _TokenCounts() if counts is None else counts
        if len(texts) == 1:
            return self._row(texts[0], counts)
        n = len(texts)
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        docs: list[np.ndarray] = []
        for block in self.blocks:
            b_ids: list[np.ndarray] = []
            b_counts: list[np.ndarray] = []
            for text in texts:
                ids, cnt = counts.get(block.analyzer, text)
                b_ids.append(ids)
                b_counts.append(cnt)
            b_len = [len(ids) for ids in b_ids]
            # The empty leading arrays keep an empty batch well-typed.
            col = block.col_of[np.concatenate([np.empty(0, np.intp), *b_ids])]
            feature = col >= 0
            col = col[feature]
            doc = np.repeat(np.arange(n), b_len)[feature]
            tf = self._weights(block, col, np.concatenate([np.empty(0), *b_counts]), feature)
            if block.l2:
                norms = np.sqrt(np.bincount(doc, weights=tf * tf, minlength=n))
                norms[norms == 0.0] = 1.0
                tf /= norms[doc]
            cols.append(col + block.offset)
            vals.append(tf)
            docs.append(doc)
        doc = np.concatenate(docs)
        # Grouped by row, blocks in union order, as the FeatureUnion stacks them.
        order = np.argsort(doc, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.intp)
        np.cumsum(np.bincount(doc, minlength=n), out=indptr[1:])
        data = np.concatenate(vals)[order]
        return Rows(indptr, np.concatenate(cols)[order], data, self.n_features)

    def _row(self, text: str, counts: _TokenCounts) -> Rows:
        """`rows` for one text, with as few numpy calls as possible (each costs a microsecond)."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for block in self.blocks:
            ids, cnt = counts.get(block.analyzer, text)
            col = block.col_of[ids]
            feature = col >= 0
            col = col[feature]
            tf = self._weights(block, col, cnt, feature)
            if block.l2:
                norm = math.sqrt(tf @ tf)
                if norm > 0.0:
                    tf /= norm
            cols.append(col + block.offset if block.offset else col)
            vals.append(tf)
        indices = np.concatenate(cols)
        return Rows(np.array([0, len(indices)]), indices, np.concatenate(vals), self.n_features)

    @staticmethod
    def _weights(
        block: _Block, col: np.ndarray, counts: np.ndarray, keep: np.ndarray
    ) -> np.ndarray:
        """tf-idf before normalisation, computed as TfidfTransformer does."""
        if block.binary:
            tf = np.ones(len(col))
        else:
            tf = counts[keep]  # a copy: the shared counts stay as they are
        if block.sublinear:
            np.log(tf, out=tf)
            tf += 1.0
        tf *= block.idf[col]
        return tf

    def decision(self, rows: Rows) -> np.ndarray:
        """(n, k) scores, as LogisticRegression.decision_function (k=1 for binary)."""
        if len(rows.indptr) == 2:
            single: np.ndarray = rows.data @ self.coef_t[rows.indices] + self.intercept
            return single[None, :]
        batch: np.ndarray = np.asarray(rows.to_csr() @ self.coef_t) + self.intercept
        return batch

    def predict_proba(self, rows: Rows) -> np.ndarray:
        """As LogisticRegression.predict_proba: sigmoid when binary, else softmax."""
        scores = self.decision(rows)
        if self.binary:
            p: np.ndarray = expit(scores[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


class _TokenCounts:
    """Term ids and counts per (analyzer, text), computed once per call, shared by all blocks."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}

    def get(self, analyzer: _Analyzer, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (id(analyzer), text)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = analyzer.count(text)
        return found


class CompiledModel:
    """Named compiled Pipelines that share normalisation and tokenisation of each listing."""

    def __init__(self, pipelines: Mapping[str, Pipeline]) -> None:
        analyzers = shared_analyzers(pipelines.values())
        self.pipelines = {name: CompiledPipeline(p, analyzers) for name, p in pipelines.items()}

    def rows(self, listings: Sequence[Any]) -> dict[str, Rows]:
        texts: dict[tuple[Any, ...], str] = {}
        counts = _TokenCounts()
        out = {}
        for name, compiled in self.pipelines.items():
            fields, max_chars = compiled.fields, compiled.max_chars
            docs = []
            for listing in listings:
                # compose() reads only the non-empty string fields: equal ones, equal text.
                key = (max_chars, *((f, v) for f in fields if (v := _field(listing, f))))
                text = texts.get(key)
                if text is None:
                    text = texts[key] = compose(listing, fields, max_chars)
                docs.append(text)
            out[name] = compiled.rows(docs, counts)
        return out
