"""The language of a title, for the evaluation's per-language slices."""

from __future__ import annotations

import pytest

from training.language import ENGLISH, INDONESIAN, language


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("Women Summer Casual Loose Cotton Shirt with Long Sleeves", ENGLISH),
        ("Portable Wireless Bluetooth Speaker with Deep Bass for Outdoor", ENGLISH),
        ("Kemeja Batik Pria Lengan Panjang Katun", INDONESIAN),
        ("Keripik Tempe Khas Malang 250gr", INDONESIAN),
        # Code-mixed: one common Indonesian word makes it Indonesian-written.
        ("Cotton Shirt Oversize Pria Premium Quality", INDONESIAN),
    ],
)
def test_a_title_is_english_written_only_without_indonesian_words(title: str, lang: str) -> None:
    assert language(title) == lang
