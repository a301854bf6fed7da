"""The served form of a model: TF-IDF + logistic regression as plain numpy arrays.

The scikit-learn Pipelines in `model.joblib` are the source of truth; `app.screening.compile`
turns them into this form at training time (and checks that it reproduces them), and the
service loads it from `serving.npz` with numpy alone: no scikit-learn import, no unpickling,
no per-call input validation. That is what makes a worker small, quick to start and quick
to answer.

The arithmetic is the Pipeline's: tokens are counted per listing, weighted (sublinear tf,
idf), each vectoriser's block is l2-normalised, and the classifier takes a dot product. It
is done in one table per tokeniser: row t holds, for every Pipeline block that reads the
tokeniser, term t's idf and its idf-scaled coefficients, so a listing costs one gather per
tokeniser and a few sums, and a batch the same number of numpy calls as one listing.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app.screening.normalize import REVISIONS, _field, compose, drop_origin_words

FORMAT = "akar-linear/1"
EVIDENCE_TERMS = 3
# A term must move the score by at least this much (log-odds) to be shown as evidence.
MIN_TERM_WEIGHT = 0.15
# Each `char_wb` tokeniser remembers the n-gram ids of the words it has seen, up to this many
# bytes (estimated as below); when a new word would pass it, the cache is cleared. Words
# longer than MAX_CACHED_WORD are cut each time and never remembered: real words are short,
# and a stream of long unique words must not be able to fill memory.
WORD_CACHE_BYTES = 16 * 2**20
MAX_CACHED_WORD = 40
# CPython's cost of one entry beyond its ids: the key string's header, the list's header and
# the dict slot (ids are the vocabulary's own int objects, so each costs one 8-byte pointer).
_ENTRY_BYTES = 200
# 1 + log(count) for counts below 1,024 (index 0 is never read: counts start at 1).
_SUBLINEAR_TF = np.concatenate(([0.0], np.log(np.arange(1.0, 1024.0)) + 1.0))
# Larger batches are predicted in chunks of this many listings.
BATCH_CHUNK = 256
# ... and of at most this many characters of text (the fields the classifiers read, each cut
# as they cut it): a chunk's n-gram work, and so a call's memory, is bounded whatever the
# titles. Real titles (about 80 characters) fill 256 listings long before it.
CHUNK_CHARS = 128_000
# Batches predicted at once in one process: each holds one chunk's n-grams (about 90 bytes
# per character of text). One: a worker screens on one core under the GIL, so a second batch
# at once adds memory (the attack suite: 257 MB peak with two, 233 MB with one), not speed.
# Single listings (on the event loop) are never held back.
CONCURRENT_BATCHES = 1
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's vectorisers collapse whitespace


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


class UnsupportedModel(Exception):
    """The model has a step or setting this form does not reproduce."""


@dataclass(frozen=True, slots=True)
class Predictions:
    cluster_proba: np.ndarray  # (n, len(cluster_labels)), rows sum to 1
    import_proba: np.ndarray  # (n,)
    cluster_terms: list[list[str]]  # terms that pushed the predicted cluster
    origin_terms: list[list[str]]  # terms that pushed towards import


# -- tokenisers: scikit-learn's analyzers, reproduced ------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenizerSpec:
    """What a fitted vectoriser's `build_analyzer()` does (input='content', no preprocessor)."""

    kind: str  # "word", "char" or "char_wb"
    ngram_range: tuple[int, int]
    lowercase: bool
    token_pattern: str | None  # word analyzers only

    def build(self) -> Callable[[str], list[str]]:
        lo, hi = self.ngram_range
        if lo < 1 or hi < lo:
            raise UnsupportedModel(f"ngram_range {self.ngram_range}")
        if self.kind == "word":
            pattern = re.compile(self.token_pattern or "")
            if pattern.groups > 1:
                raise UnsupportedModel("token_pattern with more than one group")
            return _word_analyzer(pattern.findall, lo, hi, self.lowercase)
        if self.kind == "char":
            return _char_analyzer(lo, hi, self.lowercase)
        if self.kind == "char_wb":
            return _char_wb_analyzer(lo, hi, self.lowercase)
        raise UnsupportedModel(f"analyzer {self.kind!r}")


def _word_analyzer(
    findall: Callable[[str], list[str]], lo: int, hi: int, lowercase: bool
) -> Callable[[str], list[str]]:
    def analyze(text: str) -> list[str]:
        tokens = findall(text.lower() if lowercase else text)
        out = list(tokens) if lo == 1 else []
        join = " ".join
        for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
            out += [join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return out

    return analyze


def _char_analyzer(lo: int, hi: int, lowercase: bool) -> Callable[[str], list[str]]:
    def analyze(text: str) -> list[str]:
        text = _WHITE_SPACES.sub(" ", text.lower() if lowercase else text)
        size = len(text)
        out = list(text) if lo == 1 else []
        for n in range(max(lo, 2), min(hi, size) + 1):
            out += [text[i : i + n] for i in range(size - n + 1)]
        return out

    return analyze


def _char_wb_ngrams(word: str, lo: int, hi: int) -> list[str]:
    """The n-grams of one whitespace-free word, padded with a space on each side."""
    w = f" {word} "
    size = len(w)
    out = []
    for n in range(lo, hi + 1):
        if n >= size:  # a short word counts once, whole, and longer n-grams add nothing
            out.append(w)
            break
        out += [w[i : i + n] for i in range(size - n + 1)]
    return out


def _char_wb_analyzer(lo: int, hi: int, lowercase: bool) -> Callable[[str], list[str]]:
    def analyze(text: str) -> list[str]:
        out: list[str] = []
        for word in (text.lower() if lowercase else text).split():
            out += _char_wb_ngrams(word, lo, hi)
        return out

    return analyze


class Tokenizer:
    """A tokeniser and its vocabulary: text -> ids of the known terms it contains.

    A `char_wb` tokeniser makes each whitespace-separated word's n-grams on their own, so a
    text's terms are its words' terms put together: those are remembered per word, and a
    title made of words seen before costs no n-gram slicing.
    """

    def __init__(self, spec: TokenizerSpec, terms: Sequence[str]) -> None:
        self.spec = spec
        self.terms = list(terms)
        self.term_ids: dict[str, int] = {t: i for i, t in enumerate(self.terms)}
        self.analyze = spec.build()
        self._per_word = spec.kind == "char_wb"
        self._lo, self._hi = spec.ngram_range
        self._words: dict[str, list[int]] = {}
        self._cache_bytes = 0

    @property
    def cache_bytes(self) -> int:
        """The estimated size of the per-word cache; never above WORD_CACHE_BYTES."""
        return self._cache_bytes

    def _cache(self, word: str, ids: list[int]) -> bool:
        """Remembers one word's ids if it is short enough, clearing the cache when full;
        False when the word is not remembered."""
        if len(word) > MAX_CACHED_WORD:
            return False
        cost = _ENTRY_BYTES + len(word) + 8 * len(ids)
        if self._cache_bytes + cost > WORD_CACHE_BYTES:
            self._words.clear()
            self._cache_bytes = 0
        self._words[word] = ids
        self._cache_bytes += cost
        return True

    def remember(self, words: Iterable[str]) -> None:
        """Fills up to half the per-word cache of a `char_wb` tokeniser (does nothing for
        others), so that live traffic finds the vocabulary's words already cut."""
        if not self._per_word:
            return
        for word in words:
            if self._cache_bytes >= WORD_CACHE_BYTES // 2:
                break
            self._cache(word, self._word_ids(word))

    def _word_ids(self, word: str) -> list[int]:
        """Ids of the known character n-grams of one whitespace-free word."""
        get = self.term_ids.get
        return [i for t in _char_wb_ngrams(word, self._lo, self._hi) if (i := get(t)) is not None]

    def ids(self, text: str) -> list[int]:
        """Ids of the known terms of one text, repeated as often as they occur."""
        if not self._per_word:
            get = self.term_ids.get
            return [i for t in self.analyze(text) if (i := get(t)) is not None]
        cache = self._words
        out: list[int] = []
        for word in (text.lower() if self.spec.lowercase else text).split():
            known = cache.get(word)
            if known is None:
                known = self._word_ids(word)
                self._cache(word, known)
            out += known
        return out


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One vectoriser of a Pipeline's FeatureUnion, as columns of its tokeniser's table."""

    tokenizer: int
    norm_col: int  # term's squared idf, 0 for terms outside this vectoriser
    weight_cols: slice  # idf x coefficient, one column per score
    l2: bool


@dataclass(frozen=True, slots=True)
class TfWeighting:
    sublinear: bool
    binary: bool

    def apply(self, counts: np.ndarray) -> np.ndarray:
        if self.binary:
            return np.ones(len(counts))
        if self.sublinear and len(counts) and counts.max() < len(_SUBLINEAR_TF):
            # 1 + log(count) looked up: a title's counts are small integers.
            tf: np.ndarray = _SUBLINEAR_TF[counts]
            return tf
        tf = counts.astype(np.float64)
        if self.sublinear:
            np.log(tf, out=tf)
            tf += 1.0
        return tf


@dataclass(frozen=True, slots=True)
class LinearClassifier:
    """One Pipeline: listing fields -> text -> blocks -> logistic regression."""

    name: str
    labels: tuple[str, ...]
    fields: tuple[str, ...]
    max_chars: int
    quality_claims: bool  # import words of quality claims marked (see compose)
    without_origin: bool  # reads the text without its origin words (see compose)
    normalizer: int  # the revision of `normalize` it was trained with
    blocks: tuple[Block, ...]
    intercept: np.ndarray  # (k,), k = 1 for two labels
    # Evidence: the first block's columns holding idf x (the weight a person reads as "pushed
    # towards the label"): coefficients minus their mean over labels, or the one binary row.
    evidence_cols: slice

    @property
    def binary(self) -> bool:
        return len(self.labels) == 2

    def text(self, listing: Any, memo: dict[tuple[Any, ...], str]) -> str:
        """The text this classifier reads; `memo` shares the work between classifiers and
        between equal listings (a listing is normalised once)."""
        # compose() reads only the non-empty string fields: equal ones, equal text.
        key = (
            self.max_chars,
            self.quality_claims,
            self.normalizer,
            *((f, v) for f in self.fields if (v := _field(listing, f))),
        )
        text = memo.get(key)
        if text is None:
            text = memo[key] = compose(
                listing,
                self.fields,
                self.max_chars,
                quality_claims=self.quality_claims,
                revision=self.normalizer,
            )
        if not self.without_origin:
            return text
        without = memo.get((None, *key))
        if without is None:
            without = memo[None, *key] = drop_origin_words(text, self.normalizer)
        return without


@dataclass(slots=True)
class _Counts:
    """Distinct known terms per document of one batch: grouped by document, in id order."""

    doc: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    starts: np.ndarray  # first entry of each document (len n + 1)


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

    counts: _Counts
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
        sizes = [self._text_size(listing) for listing in listings]
        with self._gate:
            parts = [self._predict_batch(listings[c]) for c in batch_chunks(sizes)]
        if len(parts) > 1:
            return Predictions(
                np.concatenate([p.cluster_proba for p in parts]),
                np.concatenate([p.import_proba for p in parts]),
                [t for p in parts for t in p.cluster_terms],
                [t for p in parts for t in p.origin_terms],
            )
        return parts[0]

    def _text_size(self, listing: Any) -> int:
        return sum(
            min(len(_field(listing, f)), c.max_chars)
            for c in self.classifiers.values()
            for f in c.fields
        )

    def _predict_one(self, listing: Any) -> Predictions:
        """`predict` for one listing, in as few numpy calls as it takes (each costs ~1 µs)."""
        texts: dict[tuple[Any, ...], str] = {}
        sums: dict[tuple[int, str], _One] = {}
        out: dict[str, tuple[np.ndarray, list[str]]] = {}
        for name, clf in self.classifiers.items():
            text = clf.text(listing, texts)
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
        counter = Counter(self.tokenizers[tokenizer].ids(text))
        ids = np.fromiter(counter, np.intp, count=len(counter))
        tf = self.weighting[tokenizer].apply(
            np.fromiter(counter.values(), np.intp, count=len(counter))
        )
        rows = self.tables[tokenizer][ids]
        return _One(ids, tf, rows, tf @ rows, (tf * tf) @ rows)

    def _predict_batch(self, listings: Sequence[Any]) -> Predictions:
        n = len(listings)
        # Each distinct text is tokenised, counted and gathered once, whichever classifiers
        # read it: the cluster's and the origin's text differ only for listings with origin
        # words or a category. maps[name][i] is the distinct text classifier `name` reads
        # for listing i.
        index: dict[str, int] = {}
        maps: dict[str, np.ndarray] = {}
        for name, docs in self._texts(listings).items():
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
        return {
            name: [clf.text(listing, memo) for listing in listings]
            for name, clf in self.classifiers.items()
        }

    def _features(self, tokenizer: int, docs: Sequence[str]) -> _Features:
        counts = _count(self.tokenizers[tokenizer], docs)
        tf = self.weighting[tokenizer].apply(counts.counts)
        return _Features(counts, tf, self.tables[tokenizer][counts.ids])

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

    # -- files

    def save(self, path: Path) -> None:
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
                for t, w in zip(self.tokenizers, self.weighting, strict=True)
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
                for name, c in self.classifiers.items()
            },
        }
        arrays: dict[str, np.ndarray] = {"meta": _encode(json.dumps(meta))}
        for i, (tok, table) in enumerate(zip(self.tokenizers, self.tables, strict=True)):
            if any("\x00" in t for t in tok.terms):
                raise UnsupportedModel("a term holds a NUL character")
            arrays[f"terms{i}"] = _encode("\x00".join(tok.terms))
            arrays[f"table{i}"] = table
        with path.open("wb") as f:
            np.savez(f, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path | BinaryIO) -> LinearModel:
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
        return cls(tokenizers, tables, weighting, classifiers)


def _encode(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _count(tokenizer: Tokenizer, docs: Sequence[str]) -> _Counts:
    """Distinct term ids and their counts per document, vectorised over the batch."""
    n = len(docs)
    per_doc = [tokenizer.ids(d) for d in docs]
    lengths = np.fromiter(map(len, per_doc), np.intp, count=n)
    flat = np.array(list(chain.from_iterable(per_doc)), dtype=np.intp)
    doc = np.repeat(np.arange(n, dtype=np.intp), lengths)
    vocab = max(len(tokenizer.terms), 1)
    keys, counts = np.unique(doc * vocab + flat, return_counts=True)
    doc, ids = np.divmod(keys, vocab)
    starts = np.searchsorted(doc, np.arange(n + 1))
    return _Counts(doc, ids, counts, starts)


def _segment_sum(values: np.ndarray, counts: _Counts, n: int) -> np.ndarray:
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
