"""The compiled form reproduces the scikit-learn Pipelines: probabilities, tokens, evidence,
before and after a round trip through serving.npz."""

from __future__ import annotations

import copy
import functools
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import Pipeline

from app.screening import linear_file
from app.screening.linear import (
    BATCH_CHUNK,
    LinearModel,
    _distinct,
    batch_chunks,
    text_sizes,
)
from app.screening.model import ScreeningModel
from app.screening.pipelines import ReferenceModel, compile_pipelines
from app.screening.store import resolve_model_dir
from app.screening.tokenizers import (
    MAX_CACHED_WORD,
    WORD_CACHE_BYTES,
    Tokenizer,
    TokenizerSpec,
    UnsupportedModel,
)
from tests.conftest import REPO, TINY_EXAMPLES
from training.data import (
    SHARED_DATA,
    load_hand_labels,
    load_sources,
    split_off_hand_checked,
)
from training.pipeline import Params, build_pipelines

TOLERANCE = 1e-6

ODD_LISTINGS: list[dict[str, Any]] = [
    {"title": "Kemeja Batik Pria Lengan Panjang", "category": "fashion/pria/kemeja"},
    {"title": "1mp0rt  k o r e a\tsnack   pedasss", "brand": "Ѕamyang"},
    {"title": "Earphone Bluetooth IMPORT made in china", "description": "ready stok " * 80},
    {"title": "keripik tempe &amp; sambal\u200b bawang", "category": "Makanan > Snack"},
    {"title": "ΟΔΟΣ ΣΑΣ ÉTÉ Straße İstanbul ǅ"},
    {"title": "!!!"},
    {"title": ""},
]


def _hand_checked_listings() -> list[dict[str, str]]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    labels = load_hand_labels()
    if not labels:
        pytest.skip("no hand-checked validation labels")
    examples = load_sources()
    _, checked = split_off_hand_checked(examples, labels)
    assert len(checked) == len(labels)
    # With and without category: the cluster model reads it, the origin model does not.
    return [e.listing() for e in checked] + [e.listing(with_category=False) for e in checked]


@pytest.fixture(scope="module")
def default_pipelines() -> dict[str, Pipeline]:
    pipelines: dict[str, Pipeline] = joblib.load(
        resolve_model_dir(None, REPO / "models") / "model.joblib"
    )
    return pipelines


@pytest.fixture(scope="module")
def tiny_pipelines(tiny_model_dir: Path) -> dict[str, Pipeline]:
    pipelines: dict[str, Pipeline] = joblib.load(tiny_model_dir / "model.joblib")
    return pipelines


def _tiny_listings() -> list[dict[str, Any]]:
    return [{"title": t} for t, _, _ in TINY_EXAMPLES] + ODD_LISTINGS


def assert_reproduces(pipelines: dict[str, Pipeline], listings: list[dict[str, Any]]) -> None:
    """Compiled against scikit-learn, batched and one listing at a time, also once saved."""
    compiled = ScreeningModel.from_pipelines(pipelines)
    assert compiled.compiled and compiled.linear is not None
    with tempfile.TemporaryDirectory() as tmp:
        linear_file.write(compiled.linear, Path(tmp) / "serving.npz")
        loaded = linear_file.read(Path(tmp) / "serving.npz")
    expected_cluster = pipelines["cluster"].predict_proba(listings)
    expected_import = pipelines["origin"].predict_proba(listings)[:, 1]
    reference = ReferenceModel(pipelines).predict(listings)

    for model in (compiled.linear, loaded):
        batch = model.predict(listings)
        assert np.abs(batch.cluster_proba - expected_cluster).max() <= TOLERANCE
        assert np.abs(batch.import_proba - expected_import).max() <= TOLERANCE
        assert batch.cluster_terms == reference.cluster_terms
        assert batch.origin_terms == reference.origin_terms

    for i, listing in enumerate(listings):
        one = loaded.predict([listing])
        assert np.abs(one.cluster_proba[0] - expected_cluster[i]).max() <= TOLERANCE
        assert abs(one.import_proba[0] - expected_import[i]) <= TOLERANCE
        assert one.cluster_terms == [reference.cluster_terms[i]]
        assert one.origin_terms == [reference.origin_terms[i]]


def assert_same_tokens(pipelines: dict[str, Pipeline], listings: list[dict[str, Any]]) -> None:
    """Each tokeniser finds, per text, exactly the vectoriser's known terms and counts."""
    linear = compile_pipelines(pipelines)
    for pipeline in pipelines.values():
        text_step, union = pipeline[0], pipeline[1]
        texts = list(text_step.transform(listings))
        for _, vec in union.transformer_list:
            tok = _tokenizer_of(linear, vec)
            analyze = vec.build_analyzer()
            for text in texts:
                expected = Counter(t for t in analyze(text) if t in vec.vocabulary_)
                got = Counter(
                    tok.terms[i] for i in tok.ids(text) if tok.terms[i] in vec.vocabulary_
                )
                assert got == expected, text


def _tokenizer_of(linear: LinearModel, vec: Any) -> Tokenizer:
    (tok,) = (
        t
        for t in linear.tokenizers
        if t.spec.kind == vec.analyzer and t.spec.ngram_range == tuple(vec.ngram_range)
    )
    return tok


@pytest.mark.slow
def test_compiled_model_matches_sklearn_on_every_hand_checked_listing(
    default_pipelines: dict[str, Pipeline],
) -> None:
    assert_reproduces(default_pipelines, _hand_checked_listings())


@pytest.mark.slow
def test_compiled_tokens_match_sklearn_on_every_hand_checked_listing(
    default_pipelines: dict[str, Pipeline],
) -> None:
    assert_same_tokens(default_pipelines, _hand_checked_listings())


@pytest.mark.slow
def test_compiled_default_model_matches_sklearn_on_odd_listings(
    default_pipelines: dict[str, Pipeline],
) -> None:
    assert_reproduces(default_pipelines, ODD_LISTINGS)
    assert_same_tokens(default_pipelines, ODD_LISTINGS)


def test_compiled_tiny_model_matches_sklearn(tiny_pipelines: dict[str, Pipeline]) -> None:
    assert_reproduces(tiny_pipelines, _tiny_listings())
    assert_same_tokens(tiny_pipelines, _tiny_listings())


def test_compiled_model_follows_rescaled_coefficients(tiny_pipelines: dict[str, Pipeline]) -> None:
    pipelines = copy.deepcopy(tiny_pipelines)
    for pipeline in pipelines.values():
        clf = pipeline[-1]
        clf.coef_ = clf.coef_ * 0.37
        clf.intercept_ = clf.intercept_ - 0.5
    assert_reproduces(pipelines, _tiny_listings())


def test_an_empty_batch_gives_empty_predictions(tiny_pipelines: dict[str, Pipeline]) -> None:
    preds = ScreeningModel.from_pipelines(tiny_pipelines).predict([])
    assert preds.cluster_proba.shape == (0, 4)
    assert preds.import_proba.shape == (0,)
    assert preds.cluster_terms == [] and preds.origin_terms == []


def _tiny_fitted(**change: Any) -> dict[str, Pipeline]:
    pipelines = build_pipelines(Params(word_max_features=500, char_max_features=2000))
    for pipeline in pipelines.values():
        pipeline.set_params(**change)
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["cluster"].fit(listings, [c for _, c, _ in TINY_EXAMPLES])
    pipelines["origin"].fit(listings, [o for _, _, o in TINY_EXAMPLES])
    return pipelines


def test_an_unsupported_setting_falls_back_to_sklearn() -> None:
    pipelines = _tiny_fitted(features__chars__norm="l1")
    with pytest.raises(UnsupportedModel, match="norm='l1'"):
        compile_pipelines(pipelines)
    model = ScreeningModel.from_pipelines(pipelines)
    assert not model.compiled
    expected = pipelines["cluster"].predict_proba(_tiny_listings())
    assert np.abs(model.predict(_tiny_listings()).cluster_proba - expected).max() == 0.0


def test_an_unexpected_step_falls_back_to_sklearn() -> None:
    pipelines = _tiny_fitted(features__words=CountVectorizer())
    with pytest.raises(UnsupportedModel, match="CountVectorizer"):
        compile_pipelines(pipelines)
    assert not ScreeningModel.from_pipelines(pipelines).compiled


def test_a_cluster_text_without_origin_words_is_reproduced() -> None:
    pipelines = _tiny_fitted()
    pipelines["cluster"].set_params(text__without_origin=True, text__quality_claims=False)
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["cluster"].fit(listings, [c for _, c, _ in TINY_EXAMPLES])
    linear = compile_pipelines(pipelines)
    assert linear.cluster.without_origin and not linear.origin.without_origin
    assert_reproduces(pipelines, _tiny_listings())
    assert_same_tokens(pipelines, _tiny_listings())


def test_texts_with_and_without_marked_quality_claims_are_reproduced() -> None:
    pipelines = _tiny_fitted()
    pipelines["origin"].set_params(text__quality_claims=False)
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["origin"].fit(listings, [o for _, _, o in TINY_EXAMPLES])
    linear = compile_pipelines(pipelines)
    assert linear.cluster.quality_claims and not linear.origin.quality_claims
    claims = [{"title": "kemeja pria import quality"}, {"title": "dress kualitas import korea"}]
    assert_reproduces(pipelines, _tiny_listings() + claims)
    assert_same_tokens(pipelines, _tiny_listings() + claims)


def test_each_normaliser_revision_is_reproduced_and_recorded() -> None:
    pipelines = _tiny_fitted()
    pipelines["origin"].set_params(text__normalizer=1)
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["origin"].fit(listings, [o for _, _, o in TINY_EXAMPLES])
    linear = compile_pipelines(pipelines)
    assert (linear.cluster.normalizer, linear.origin.normalizer) == (2, 1)
    # Titles the two revisions read differently.
    disguised = [
        {"title": "rok plisket kualitas 1mport"},
        {"title": "tepung m4d3 1n j4p4n 1kg"},
        {"title": "keju made/in/holland"},
    ]
    assert_reproduces(pipelines, _tiny_listings() + disguised)
    assert_same_tokens(pipelines, _tiny_listings() + disguised)
    with tempfile.TemporaryDirectory() as tmp:
        linear_file.write(linear, Path(tmp) / "serving.npz")
        loaded = linear_file.read(Path(tmp) / "serving.npz")
    assert (loaded.cluster.normalizer, loaded.origin.normalizer) == (2, 1)


def test_a_model_of_an_unknown_normaliser_is_refused(tmp_path: Path) -> None:
    pipelines = _tiny_fitted()
    pipelines["origin"].set_params(text__normalizer=99)
    path = tmp_path / "serving.npz"
    linear_file.write(compile_pipelines(pipelines), path)
    with pytest.raises(UnsupportedModel, match="normaliser 99"):
        linear_file.read(path)


def test_supported_settings_other_than_ours_are_reproduced() -> None:
    pipelines = _tiny_fitted(
        features__words__sublinear_tf=False,
        features__words__binary=True,
        features__chars__use_idf=False,
        features__chars__norm=None,
        features__chars__analyzer="char",
    )
    assert_reproduces(pipelines, _tiny_listings())
    assert_same_tokens(pipelines, _tiny_listings())


# Letters of the tiny vocabulary, odd whitespace and case-changing letters, and anything else.
_CHARS = st.one_of(
    st.sampled_from(list("abcdeijkmnoprstu KBTΣΑİǅ\t\n\r\x0b\x0c\x1c\u00a0\u2003\u3000.-")),
    st.characters(codec="utf-8"),
)


@functools.cache
def _tiny_cached() -> tuple[dict[str, Pipeline], LinearModel]:
    pipelines = _tiny_fitted()
    return pipelines, compile_pipelines(pipelines)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_CHARS, max_size=60),
        # Few letters: many words share prefixes and repeat, as the word cache sees them.
        st.text(alphabet=st.sampled_from(list("kemjab \t")), max_size=60),
    )
)
def test_every_tokenizer_counts_terms_as_its_vectorizer(text: str) -> None:
    pipelines, linear = _tiny_cached()
    for _, vec in pipelines["cluster"][1].transformer_list:
        tok = _tokenizer_of(linear, vec)
        expected = Counter(t for t in vec.build_analyzer()(text) if t in tok.term_ids)
        assert Counter(tok.terms[i] for i in tok.ids(text)) == expected


def _char_wb_tokenizer() -> Tokenizer:
    spec = TokenizerSpec(kind="char_wb", ngram_range=(2, 4), lowercase=True, token_pattern=None)
    return Tokenizer(spec, ["ab", " ab", "ab ", "abc", "bc", "kem"])


def test_the_word_cache_stays_within_its_byte_bound_whatever_the_words() -> None:
    tok = _char_wb_tokenizer()
    seen = 0
    for i in range(60_000):
        # Every word is new, so each one is a miss that the cache must pay for or refuse.
        tok.ids(f"abc{i} kem{i}ab")
        seen = max(seen, tok.cache_bytes)
    assert 0 < seen <= WORD_CACHE_BYTES
    # Past a clearing, words are still cut right.
    assert WORD_CACHE_BYTES - seen < 1_000
    assert sorted(tok.ids("abc")) == sorted(tok.term_ids[t] for t in (" ab", "ab", "abc", "bc"))


def test_a_long_word_is_counted_but_never_remembered() -> None:
    tok = _char_wb_tokenizer()
    word = "ab" + "x" * MAX_CACHED_WORD
    assert sorted(tok.ids(word)) == sorted([tok.term_ids[" ab"], tok.term_ids["ab"]])
    assert tok.cache_bytes == 0
    tok.ids("ab")
    assert tok.cache_bytes > 0


@settings(max_examples=300)
@given(
    st.lists(st.integers(min_value=0, max_value=3000), max_size=600),
    st.integers(min_value=1, max_value=300),
    st.integers(min_value=1, max_value=5000),
)
def test_batch_chunks_cover_every_listing_in_order_within_both_bounds(
    sizes: list[int], max_listings: int, max_chars: int
) -> None:
    chunks = batch_chunks(sizes, max_listings, max_chars)
    assert [i for c in chunks for i in range(len(sizes))[c]] == list(range(len(sizes)))
    for c in chunks:
        part = sizes[c]
        assert len(part) <= max_listings
        assert len(part) == 1 or sum(part) <= max_chars  # a listing alone may be longer
    # And no chunk is cut earlier than it needs to be.
    for a, b in zip(chunks, chunks[1:], strict=False):
        part = sizes[a]
        assert len(part) == max_listings or sum(part) + sizes[b.start] > max_chars


def test_a_batch_of_long_titles_is_cut_into_chunks_and_predicts_as_one_at_a_time(
    tiny_pipelines: dict[str, Pipeline],
) -> None:
    words = [t for t, _, _ in TINY_EXAMPLES]
    listings = [
        {"title": " ".join(words[i:] + words[:i])[:500], "category": "Fashion " * 60}
        for i in range(len(words))
    ] * 8
    linear = ScreeningModel.from_pipelines(tiny_pipelines).linear
    assert linear is not None
    sizes = text_sizes(linear._texts(listings))
    assert len(listings) <= BATCH_CHUNK < sum(sizes) // 500  # so cut by characters
    assert len(batch_chunks(sizes)) > 1
    assert_reproduces(tiny_pipelines, listings)


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=200))
def test_distinct_ids_and_counts_are_numpys_unique(ids: list[int]) -> None:
    got_ids, got_counts = _distinct(np.array(ids, dtype=np.intp))
    want_ids, want_counts = np.unique(np.array(ids, dtype=np.intp), return_counts=True)
    assert got_ids.tolist() == want_ids.tolist()
    assert got_counts.tolist() == want_counts.tolist()


def test_remembered_word_ids_cannot_be_changed_by_a_caller() -> None:
    tok = _char_wb_tokenizer()
    (first,) = tok.parts("abc")
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 0
    assert sorted(tok.ids("abc")) == sorted(tok.term_ids[t] for t in (" ab", "ab", "abc", "bc"))
