"""The scikit-learn side of a model: the fitted Pipelines, their own predictions, and their
compilation into the served `LinearModel`.

Each Pipeline is `ListingText -> FeatureUnion(TfidfVectorizer, ...) -> LogisticRegression`.
They are the source of truth: `ReferenceModel` predicts with scikit-learn itself (training,
tests and benchmarks compare against it), and `compile_pipelines` copies their fitted state
into arrays. Anything the compiled form does not reproduce exactly raises
`UnsupportedModel`, and the caller keeps the reference path. Only this module (and
training) imports scikit-learn; a service that loads a compiled model never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.screening.compiled import Block, LinearClassifier, TfWeighting
from app.screening.linear import EVIDENCE_TERMS, MIN_TERM_WEIGHT, LinearModel, Predictions
from app.screening.text import ListingText
from app.screening.tokenizers import Tokenizer, TokenizerSpec, UnsupportedModel


def parts(pipeline: Any) -> tuple[ListingText, list[TfidfVectorizer], LogisticRegression]:
    """The steps of a supported Pipeline, or UnsupportedModel saying what differs."""
    steps = getattr(pipeline, "steps", None)
    if type(pipeline) is not Pipeline or steps is None or len(steps) != 3:
        raise UnsupportedModel("expected a Pipeline of exactly three steps")
    text, union, clf = (step for _, step in steps)
    if type(text) is not ListingText:
        raise UnsupportedModel("first step is not ListingText")
    if type(union) is not FeatureUnion or union.transformer_weights is not None:
        raise UnsupportedModel("second step is not an unweighted FeatureUnion")
    if type(clf) is not LogisticRegression or not hasattr(clf, "coef_"):
        raise UnsupportedModel("last step is not a fitted LogisticRegression")
    vectorizers = [vec for _, vec in union.transformer_list]
    for vec in vectorizers:
        if type(vec) is not TfidfVectorizer or not hasattr(vec, "vocabulary_"):
            name = type(vec).__name__
            raise UnsupportedModel(f"feature step {name} is not a fitted TfidfVectorizer")
        if vec.norm not in ("l2", None) or np.dtype(vec.dtype) != np.float64:
            raise UnsupportedModel(f"norm={vec.norm!r}, dtype={vec.dtype!r} not supported")
        if vec.input != "content":
            raise UnsupportedModel("only input='content' is supported")
        if callable(vec.analyzer) or vec.preprocessor is not None or vec.tokenizer is not None:
            raise UnsupportedModel("own analyzer, preprocessor or tokenizer")
        if vec.stop_words is not None or vec.strip_accents:
            raise UnsupportedModel("stop words and accent stripping are not supported")
    return text, vectorizers, clf


def _spec(vec: TfidfVectorizer) -> TokenizerSpec:
    lo, hi = vec.ngram_range
    pattern = vec.token_pattern if vec.analyzer == "word" else None
    return TokenizerSpec(str(vec.analyzer), (int(lo), int(hi)), bool(vec.lowercase), pattern)


def compile_pipelines(pipelines: Mapping[str, Pipeline]) -> LinearModel:
    """The Pipelines' fitted state as one `LinearModel` (see app.screening.linear)."""
    fitted = {name: parts(p) for name, p in pipelines.items()}
    # One tokeniser per distinct analyzer; its terms are the union of the vocabularies that
    # read it, in alphabetical order, which is each vectoriser's own column order.
    specs: list[TokenizerSpec] = []
    weighting: list[TfWeighting] = []
    vocab: list[set[str]] = []
    for _, vectorizers, _ in fitted.values():
        for vec in vectorizers:
            spec, tf = _spec(vec), TfWeighting(bool(vec.sublinear_tf), bool(vec.binary))
            if spec not in specs:
                specs.append(spec)
                weighting.append(tf)
                vocab.append(set())
            i = specs.index(spec)
            if weighting[i] != tf:
                raise UnsupportedModel("vectorisers sharing an analyzer weight tf differently")
            vocab[i].update(vec.vocabulary_)
    tokenizers = [Tokenizer(spec, sorted(terms)) for spec, terms in zip(specs, vocab, strict=True)]
    columns: list[list[np.ndarray]] = [[] for _ in specs]  # per tokeniser, its table's columns

    def add(tok: int, term_ids: np.ndarray, values: np.ndarray) -> slice:
        """Appends columns (values: terms of one vectoriser x k) to a table; their slice."""
        start = len(columns[tok])
        for col in np.atleast_2d(values.T):
            full = np.zeros(len(tokenizers[tok].terms))
            full[term_ids] = col
            columns[tok].append(full)
        return slice(start, len(columns[tok]))

    classifiers = {}
    for name, (text, vectorizers, clf) in fitted.items():
        coef = clf.coef_
        labels = tuple(str(c) for c in clf.classes_)
        width = sum(len(v.vocabulary_) for v in vectorizers)
        if not isinstance(coef, np.ndarray) or coef.shape != (
            1 if len(labels) == 2 else len(labels),
            width,
        ):
            raise UnsupportedModel(f"{name}: coef_ is not a dense array over the union")
        blocks = []
        evidence_cols = slice(0, 0)
        offset = 0
        for j, vec in enumerate(vectorizers):
            tok = specs.index(_spec(vec))
            terms, cols = (
                zip(*vec.vocabulary_.items(), strict=True) if vec.vocabulary_ else ((), ())
            )
            term_ids = np.fromiter(
                map(tokenizers[tok].term_ids.__getitem__, terms), np.intp, count=len(terms)
            )
            order = np.argsort(np.fromiter(cols, np.intp, count=len(cols)))
            term_ids = term_ids[order]  # by column
            n = len(term_ids)
            if not np.array_equal(np.sort(np.fromiter(cols, np.intp, count=n)), np.arange(n)):
                raise UnsupportedModel("vocabulary columns are not 0..n-1")
            if np.any(np.diff(term_ids) <= 0):
                raise UnsupportedModel("vocabulary columns are not in alphabetical order")
            idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else np.ones(n)
            if idf.shape != (n,):
                raise UnsupportedModel("vocabulary and idf do not line up")
            w = np.asarray(coef[:, offset : offset + n], dtype=np.float64)
            norm_col = add(tok, term_ids, idf * idf).start
            weight_cols = add(tok, term_ids, idf[:, None] * w.T)
            if j == 0:
                if len(labels) == 2:
                    evidence_cols = weight_cols
                else:
                    relative = (
                        w - np.asarray(coef, dtype=np.float64).mean(axis=0)[offset : offset + n]
                    )
                    evidence_cols = add(tok, term_ids, idf[:, None] * relative.T)
            blocks.append(Block(tok, norm_col, weight_cols, vec.norm == "l2"))
            offset += n
        classifiers[name] = LinearClassifier(
            name=name,
            labels=labels,
            fields=tuple(text.fields),
            max_chars=int(text.max_chars),
            quality_claims=bool(getattr(text, "quality_claims", False)),
            without_origin=bool(getattr(text, "without_origin", False)),
            normalizer=int(getattr(text, "normalizer", 1)),
            blocks=tuple(blocks),
            intercept=np.asarray(clf.intercept_, dtype=np.float64).reshape(-1),
            evidence_cols=evidence_cols,
        )
    tables = [
        np.column_stack(cols) if cols else np.zeros((len(t.terms), 0))
        for t, cols in zip(tokenizers, columns, strict=True)
    ]
    return LinearModel(tokenizers, tables, weighting, classifiers)


class _Explained:
    """A fitted Pipeline split into features and classifier, with its first block's terms."""

    def __init__(self, pipeline: Pipeline, name: str) -> None:
        try:
            self.features: Pipeline = pipeline[:-1]
            self.classifier: LogisticRegression = pipeline[-1]
            union: FeatureUnion = pipeline[-2]
            words: TfidfVectorizer = union.transformer_list[0][1]
            self.words = np.array(words.get_feature_names_out(), dtype=object)
        except (KeyError, IndexError, AttributeError, TypeError) as exc:
            raise UnsupportedModel(f"{name} pipeline does not have the expected steps") from exc
        self.classes = [str(c) for c in self.classifier.classes_]

    def top_terms(self, x: Any, weights: np.ndarray, rows: np.ndarray) -> list[list[str]]:
        """Per row i, the word features whose tf-idf times weights[rows[i]] is largest.

        Ties go to the lower feature index, so the answer does not depend on the sort.
        """
        x = x.tocsr()
        n = x.shape[0]
        doc = np.repeat(np.arange(n), np.diff(x.indptr))
        keep = x.indices < len(self.words)
        doc, idx, val = doc[keep], x.indices[keep], x.data[keep]
        contrib = val * weights[rows[doc], idx]
        strong = contrib >= MIN_TERM_WEIGHT
        doc, idx, contrib = doc[strong], idx[strong], contrib[strong]
        order = np.lexsort((idx, -contrib, doc))
        doc, idx = doc[order], idx[order]
        first = np.searchsorted(doc, doc, side="left")
        top = np.arange(len(doc)) - first < EVIDENCE_TERMS
        out: list[list[str]] = [[] for _ in range(n)]
        for d, term in zip(doc[top].tolist(), self.words[idx[top]].tolist(), strict=True):
            out[d].append(str(term))
        return out


class ReferenceModel:
    """Predictions and evidence computed by scikit-learn itself: the source of truth."""

    def __init__(self, pipelines: Mapping[str, Pipeline]) -> None:
        self.cluster = _Explained(pipelines["cluster"], "cluster")
        self.origin = _Explained(pipelines["origin"], "origin")
        self.cluster_labels: list[str] = self.cluster.classes
        coef = self.cluster.classifier.coef_
        # Evidence for a cluster: its coefficients minus their mean over clusters, so words
        # common to all clusters do not count.
        self._cluster_relative = coef - coef.mean(axis=0, keepdims=True)
        self._origin_coef = self.origin.classifier.coef_

    def predict(self, listings: Sequence[Any]) -> Predictions:
        xc = self.cluster.features.transform(listings)
        xo = self.origin.features.transform(listings)
        cluster_proba = self.cluster.classifier.predict_proba(xc)
        import_proba = self.origin.classifier.predict_proba(xo)[:, 1]
        return Predictions(
            cluster_proba,
            import_proba,
            self.cluster.top_terms(xc, self._cluster_relative, cluster_proba.argmax(axis=1)),
            self.origin.top_terms(xo, self._origin_coef, np.zeros(len(listings), np.intp)),
        )
