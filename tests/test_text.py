from __future__ import annotations

import pytest

from app.screening.text import ListingText, compose, normalize


@pytest.mark.parametrize(
    ("raw", "contains"),
    [
        ("Barang IMPORT", "barang import"),
        ("i m p o r t", "import"),
        ("i-m-p-o-r-t", "import"),
        ("i.m.p.o.r.t", "import"),
        ("1mp0rt", "import"),
        ("imp0r", "impor"),
        ("!mport", "import"),
        ("importtt", "import"),
        ("impoooort", "import"),
        ("ｉｍｐｏｒｔ", "import"),  # fullwidth
        ("imp\u043ert", "import"),  # Cyrillic o
        ("im\u200bport", "import"),  # zero-width space
        ("m4de in ch1na", "made"),
        ("Kain &#40;2m&#41;", "kain (2m)"),
    ],
)
def test_normalize_undoes_obfuscation(raw: str, contains: str) -> None:
    assert contains in normalize(raw)


@pytest.mark.parametrize("raw", ["RX580 8GB", "Samsung S23", "Kaos XXL", "Sepatu 39-44"])
def test_normalize_leaves_product_codes_and_sizes_alone(raw: str) -> None:
    assert normalize(raw) == raw.lower()


def test_compose_joins_fields_and_spells_out_category_paths() -> None:
    text = compose(
        {"title": "Kemeja", "category": "fashion-pria/atasan-pria", "brand": None},
        ("title", "brand", "category"),
        500,
    )
    assert text == "kemeja . fashion pria atasan pria"


def test_compose_cuts_each_field_to_max_chars() -> None:
    assert (
        compose({"title": "ab" * 25, "description": "cd" * 25}, ("title", "description"), 10)
        == "ab" * 5 + " . " + "cd" * 5
    )


def test_listing_text_reads_mappings_and_objects_alike() -> None:
    class Obj:
        title = "Kopi Gayo"
        brand = None

    out = ListingText(fields=("title", "brand")).fit_transform([{"title": "Kopi Gayo"}, Obj()])
    assert list(out) == ["kopi gayo", "kopi gayo"]
