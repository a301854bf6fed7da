"""Marketplace cross-border markers in a title: found in every form, and not in look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.screening.markers import PREFIX, title_markers


@pytest.mark.parametrize(
    ("title", "marker"),
    [
        ("Kemeja Pria - intl", "- intl"),
        ("USB 3.0 Portable Flash Drive-Intl", "-Intl"),
        ("Kotak HDD Eksternal-  INTL (Tidak Ada Penyimpanan)", "-  INTL"),
        ("Casing Hard Disk (hitam)-International", "-International"),
        ("Tas Selempang Kanvas Wanita (Intl)", "(Intl)"),
        ("Gelang Manik Etnik [Intl]", "[Intl]"),
        ("Kabel Adaptor SATA ke USB -Internasional", "-Internasional"),
        ("Kopi Luwak Bubuk 100g - International", "- International"),
        ("Jaket Pria intl", "intl"),
        (
            "Women Summer Casual Loose Cotton Linen Short Sleeve Button Down Shirt Blouse "
            "Tops Plus Size S-5XL - intl",
            "- intl",
        ),
        ("Baju Anak Import Dikirim dari Luar Negeri", "Dikirim dari Luar Negeri"),
        ("Dress Wanita Ship From Overseas", "Ship From Overseas"),
        ("Sepatu Sneakers shipped from China", "shipped from China"),
        ("Kemeja Flanel PO China 15 hari", "PO China"),
        ("Jaket Musim Dingin Pre Order Korea", "Pre Order Korea"),
        ("Keripik Kentang Ready Gudang China", "Gudang China"),
    ],
)
def test_every_form_of_a_marker_is_found_and_named(title: str, marker: str) -> None:
    assert title_markers(title) == [PREFIX + marker]


@pytest.mark.parametrize(
    "title",
    [
        "Laptop Lenovo Intel Core i5 8GB",
        "Processor Intel",
        "Helm SNI Standar Internasional",
        "Bola Futsal Kualitas - International",
        "Batik International Collection Kemeja Pria",
        "Kemeja Intlaxe Slimfit",
        "Gamis Pre Order 7 hari",
        "PO Lebaran Kue Nastar",
        "Dress PO Korea style",
        "Kaos dikirim dari Bandung",
        "Sepatu gudang Surabaya",
        "Keripik Pedas Luar Biasa",
        "Kemeja Batik Pria Lengan Panjang",
    ],
)
def test_look_alikes_are_not_markers(title: str) -> None:
    assert title_markers(title) == []


@given(st.text(max_size=300))
def test_any_text_gives_a_list_of_named_markers(text: str) -> None:
    assert all(m.startswith(PREFIX) for m in title_markers(text))
