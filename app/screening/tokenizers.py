"""Tokenisers: scikit-learn's analyzers reproduced without scikit-learn, each with its
vocabulary (text -> ids of the known terms) and, for `char_wb`, a per-word cache bounded in
bytes. Checked against `build_analyzer()` in tests/screening/test_tokenizers.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

# Each `char_wb` tokeniser remembers the n-gram ids of the words it has seen, up to this many
# bytes (estimated as below); when a new word would pass it, the cache is cleared. Words
# longer than MAX_CACHED_WORD are cut each time and never remembered: real words are short,
# and a stream of long unique words must not be able to fill memory.
WORD_CACHE_BYTES = 16 * 2**20
MAX_CACHED_WORD = 40
# CPython's cost of one entry beyond its ids (8 bytes each): the key string's header, the
# array's header (112 bytes) and the dict slot.
_ENTRY_BYTES = 256
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's vectorisers collapse whitespace
_NO_IDS = np.empty(0, dtype=np.intp)


class UnsupportedModel(Exception):
    """The model has a step or setting this form does not reproduce."""


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
        for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
            # tokens[i : i + n] joined by a space, for each i in order (the shifted lists are cut
            # by the shortest).
            out += map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False))
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
    text's terms are its words' terms put together: those are remembered per word, as an
    array of ids, and a title made of words seen before costs no n-gram slicing and a batch
    of them one concatenation.
    """

    def __init__(self, spec: TokenizerSpec, terms: Sequence[str]) -> None:
        self.spec = spec
        self.terms = list(terms)
        self.term_ids: dict[str, int] = {t: i for i, t in enumerate(self.terms)}
        self.analyze = spec.build()
        self._per_word = spec.kind == "char_wb"
        self._lo, self._hi = spec.ngram_range
        self._words: dict[str, np.ndarray] = {}
        self._cache_bytes = 0

    @property
    def cache_bytes(self) -> int:
        """The estimated size of the per-word cache; never above WORD_CACHE_BYTES."""
        return self._cache_bytes

    def _cache(self, word: str, ids: np.ndarray) -> bool:
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

    def _word_ids(self, word: str) -> np.ndarray:
        """Ids of the known character n-grams of one whitespace-free word."""
        get = self.term_ids.get
        ids = [i for i in map(get, _char_wb_ngrams(word, self._lo, self._hi)) if i is not None]
        out = np.array(ids, dtype=np.intp)
        out.flags.writeable = False  # remembered and handed out by `parts`: never changed
        return out

    def parts(self, text: str) -> list[np.ndarray]:
        """Ids of the known terms of one text, repeated as often as they occur, in pieces
        (one per word of a `char_wb` tokeniser) whose concatenation is `ids(text)`."""
        if not self._per_word:
            get = self.term_ids.get
            ids = [i for i in map(get, self.analyze(text)) if i is not None]
            return [np.array(ids, dtype=np.intp)]
        cache = self._words
        out: list[np.ndarray] = []
        for word in (text.lower() if self.spec.lowercase else text).split():
            known = cache.get(word)
            if known is None:
                known = self._word_ids(word)
                self._cache(word, known)
            out.append(known)
        return out

    def ids(self, text: str) -> np.ndarray:
        """Ids of the known terms of one text, repeated as often as they occur."""
        return np.concatenate([_NO_IDS, *self.parts(text)])


# -- a batch of texts counted ---------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    """Distinct known terms per document of one batch: grouped by document, in id order."""

    doc: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    starts: np.ndarray  # first entry of each document (len n + 1)


def count_terms(tokenizer: Tokenizer, docs: Sequence[str]) -> Counts:
    """Distinct term ids and their counts per document, vectorised over the batch."""
    n = len(docs)
    per_doc = [tokenizer.parts(d) for d in docs]
    pieces = list(chain.from_iterable(per_doc))
    flat = np.concatenate([_NO_IDS, *pieces])
    # Each piece's document, then each id's: two repeats instead of a loop over the ids.
    piece_doc = np.repeat(
        np.arange(n, dtype=np.intp), np.fromiter(map(len, per_doc), np.intp, count=n)
    )
    doc = np.repeat(piece_doc, np.fromiter(map(len, pieces), np.intp, count=len(pieces)))
    vocab = max(len(tokenizer.terms), 1)
    keys, counts = np.unique(doc * vocab + flat, return_counts=True)
    doc, ids = np.divmod(keys, vocab)
    starts = np.searchsorted(doc, np.arange(n + 1))
    return Counts(doc, ids, counts, starts)
