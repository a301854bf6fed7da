"""The optimised `normalize`/`compose` return exactly what the pre-optimisation code did.

The trained model's self-check depends on the model text being the same string for every
input, so the fast paths in app/screening/normalize.py are held to the frozen copy in
tests/screening/reference_normalize.py: on arbitrary and adversarial text (hypothesis) and on
every real title and listing of ../shared/data.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import training.data
from app.screening import normalize as fast
from app.screening.claims import REVISIONS
from tests.screening import reference_normalize as reference
from training.data import SHARED_DATA, Example, load_sources

# Pieces that exercise every pass and every shortcut: entities, controls, invisible and
# private-use characters, lone surrogates, NFKC-changing characters, homoglyphs, leetspeak,
# spaced letters, letter runs, and the words of the made-in, material and origin patterns.
FRAGMENTS = [
    *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    *" \t\n\r\x0b\x0c\x00\x01\x08\x1b\x1c\x1f\x7f\x85\xa0\u2028\u2029\u3000",
    *".-_*/>|&;#@!$",
    *"013457@!$|",
    "&amp;",
    "&lt;",
    "&gt;",
    "&#40;",
    "&#x29;",
    "&#9;",
    "&#10;",
    "&#0;",
    "&#x200b;",
    "&#1086;",
    "&nbsp;",
    "&ouml",
    "&",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\xad",
    "\u202e",
    "\ue000",
    "\U000f0000",
    "\ud800",
    "\udfff",
    "\u0301",
    "\u0307",
    "İ",
    "ß",
    "ﬁ",
    "ℌ",
    "①",
    "㎏",
    "Ⅻ",
    "ｉｍｐｏｒｔ",
    "ＩＭＰＯＲＴ",
    "ｍａｄｅ ｉｎ",
    "１",
    "а",
    "е",
    "о",
    "р",
    "с",
    "у",
    "х",
    "і",
    "ј",
    "ѕ",
    "ԁ",
    "ı",
    "ο",
    "α",
    "ν",
    "ρ",
    "τ",
    "κ",
    "ε",
    "ι",
    "м",
    "т",
    "н",
    "к",
    "в",
    "г",
    "М",
    "Т",
    "Α",
    "Ο",
    "made in",
    "made_in",
    "madein",
    "mde in",
    "md-in",
    "m4de-in",
    "MADE IN",
    "made in ",
    "lmport",
    "|mport",
    "l mp",
    "mp",
    "i m p o r t",
    "i.m.p.o.r.t",
    "i - m - p",
    "1mp0rt",
    "!mp0rt",
    "imp0r",
    "import",
    "impor",
    "imported",
    "importtt",
    "impoooort",
    "kopiii",
    "xxxl",
    "aaa",
    "ori",
    "original",
    "asli",
    "produk",
    "product",
    "from",
    "dari",
    "ori china",
    "original thailand",
    "asli jepang",
    "import korea",
    "dari hong kong",
    "in",
    "indo",
    "indonesia",
    "china",
    "ch1na",
    "japan",
    "vn",
    "uk",
    "bahan",
    "bahan katun import",
    "kain ",
    "kulit ori",
    "kancing asli",
    "material",
    "wol ",
    "toyobo",
    "rx580",
    "s23",
    "madinah",
    "lampu",
    " . ",
    "  ",
    # Revision 2: doubled import letters, "made/in", new countries, leet phrase words.
    "impoor",
    "immport",
    "iimmpoorrtt",
    "important",
    "made/in/korea",
    "/",
    "holland",
    "new zealand",
    "n3w z3aland",
    "jpn",
    "m4d3",
    "1n",
    "0r1",
    "kual1tas",
    "gr4de",
    "5kg",
    "usb3",
    "kanvas import",
    "spandex ori korea",
    "lycra",
]
# Claim-like phrases: a trigger word of the made-in, material or origin pattern, a separator,
# then a country or another trigger, so each shortcut meets both its matches and near misses.
CLAIM_WORDS = [
    "made in",
    "madein",
    "made_in",
    "mad in",
    "mde-in",
    "m4de in",
    "md in",
    "mdin",
    "ori",
    "original",
    "asli",
    "produk",
    "product",
    "from",
    "dari",
    "impor",
    "import",
    "imported",
    "lmport",
    "bahan katun",
    "kulit",
    "kain wol",
    "material",
    "sutra",
    "kanvas",
    "legging spandex",
    "in",
    "m4d3 1n",
    "0r1",
    "impoor",
    "kualitas",
    "grade 1mp0rt",
]
SEPARATORS = ["", " ", "  ", "_", "-", ".", "/", "\t", " . ", "\u200b", "&nbsp;"]
TARGETS = [
    "china",
    "ch1na",
    "hong kong",
    "korea",
    "japan",
    "thai",
    "vn",
    "uk",
    "indonesia",
    "indo",
    "impor",
    "import",
    "ori",
    "asli",
    "made in",
    "madinah",
    "chinese",
    "holland",
    "jpn",
    "new zealand",
    "n3w z3aland",
    "tha1land",
]
phrase = st.builds(
    "".join,
    st.tuples(st.sampled_from(CLAIM_WORDS), st.sampled_from(SEPARATORS), st.sampled_from(TARGETS)),
)
# Tokens of letters, digits and leet symbols in any order: product codes and leetspeak.
leet_token = st.text(alphabet="abeimoprstxz26890134579@!$|", min_size=1, max_size=10)
tricky_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), leet_token, st.sampled_from(SEPARATORS)), max_size=40
).map("".join)
claim_text = st.lists(st.one_of(phrase, st.sampled_from(SEPARATORS)), max_size=6).map("".join)
# The fragments with arbitrary characters between them.
mixed_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=30).map(
    "".join
)
# Characters of the categories the invisible-character pass looks at (including lone
# surrogates, which st.text() leaves out), whitespace, marks and letters.
odd_text = st.text(
    st.characters(categories=["Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp", "Mn", "Lo"]),
    max_size=30,
)


def test_premises_of_the_shortcuts_hold() -> None:
    # The ASCII fast path: NFKC leaves ASCII alone, no homoglyph is ASCII, and the control
    # table's keys are exactly the ASCII characters str.isprintable rejects.
    ascii_chars = "".join(map(chr, range(128)))
    assert unicodedata.normalize("NFKC", ascii_chars) == ascii_chars
    assert all(unicodedata.normalize("NFKC", c) == c and c.lower().isascii() for c in ascii_chars)
    assert all(key > 127 for key in fast._HOMOGLYPHS)
    assert sorted(fast._ASCII_INVISIBLE) == [ord(c) for c in ascii_chars if not c.isprintable()]
    # The final whitespace collapse: re's \s and str.split()/strip() agree on every code point.
    every_char = "".join(map(chr, range(sys.maxunicode + 1)))
    assert re.findall(r"\s", every_char) == [c for c in every_char if c.isspace()]


def assert_same(text: str) -> None:
    for revision in REVISIONS:
        assert fast.normalize(text, revision) == reference.normalize(text, revision), (
            revision,
            repr(text),
        )


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=200))
@example("")
@example("\x00\t\n\r\x7f")
@example("&#x200b;i&#8203;mport")
@example("a" * 300 + "1")
def test_equivalent_on_any_text(text: str) -> None:
    assert_same(text)


@settings(max_examples=1000, deadline=None)
@given(tricky_text)
def test_equivalent_on_obfuscated_text(text: str) -> None:
    assert_same(text)


@settings(max_examples=600, deadline=None)
@given(claim_text)
@example("dari hong kong")
@example("produk korea")
@example("madein china")
@example("bahan katun asli jepang")
def test_equivalent_on_claim_phrases(text: str) -> None:
    assert_same(text)


def test_equivalent_on_every_claim_phrase() -> None:
    # All trigger word x separator x target combinations, alone and inside a title.
    for word, sep, target in itertools.product(CLAIM_WORDS, SEPARATORS, TARGETS):
        text = word + sep + target
        assert_same(text)
        assert_same(f"Kaos {text.upper()} 100%")


@settings(max_examples=600, deadline=None)
@given(mixed_text)
def test_equivalent_on_fragments_among_any_characters(text: str) -> None:
    assert_same(text)


@settings(max_examples=500, deadline=None)
@given(odd_text)
@example("\ud800a\udfff \ue000\u200b\U0010fffd\x85\u2028")
def test_equivalent_on_control_format_and_private_characters(text: str) -> None:
    assert_same(text)


listing_field = st.one_of(st.none(), st.integers(), tricky_text, claim_text, mixed_text)


@settings(max_examples=300, deadline=None)
@given(
    title=listing_field,
    brand=listing_field,
    category=st.one_of(listing_field, st.lists(st.sampled_from(FRAGMENTS)).map("/".join)),
    description=listing_field,
    max_chars=st.integers(min_value=0, max_value=600),
)
def test_compose_equivalent(
    title: Any, brand: Any, category: Any, description: Any, max_chars: int
) -> None:
    record = {"title": title, "brand": brand, "category": category, "description": description}
    fields = ("title", "brand", "category", "description")
    for revision in REVISIONS:
        assert fast.compose(record, fields, max_chars, revision=revision) == reference.compose(
            record, fields, max_chars, revision
        )


needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is missing")


@functools.cache
def _load_sources() -> list[Example]:
    """load_sources, read once for both tests below (reading the sources takes seconds)."""
    return load_sources()


@pytest.mark.slow
@needs_data
def test_equivalent_on_every_real_title(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.common import real_titles

    monkeypatch.setattr(training.data, "load_sources", _load_sources)
    titles = real_titles()
    assert len(titles) > 1000
    different = [
        (revision, t)
        for revision in REVISIONS
        for t in titles
        if fast.normalize(t, revision) != reference.normalize(t, revision)
    ]
    assert not different, different[:5]


@pytest.mark.slow
@needs_data
def test_compose_equivalent_on_real_listings() -> None:
    # Every fourth real listing: its raw title (own whitespace, not collapsed), its category
    # path, the shop as the brand and the next listing's title as the description.
    examples = _load_sources()
    fields = ("title", "brand", "category", "description")
    different = []
    for i in range(0, len(examples) - 1, 4):
        e = examples[i]
        record = {
            "title": e.title,
            "brand": e.group.partition(":")[2],
            "category": e.category,
            "description": examples[i + 1].title + "\n" + e.origin,
        }
        max_chars = 500 if i % 8 else 40
        for revision in REVISIONS:
            ours = fast.compose(record, fields, max_chars, revision=revision)
            if ours != reference.compose(record, fields, max_chars, revision):
                different.append((revision, record))
    assert len(examples) > 1000
    assert not different, different[:5]
