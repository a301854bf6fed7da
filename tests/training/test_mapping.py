from __future__ import annotations

import pytest

from training.mapping import (
    cluster_from_table,
    origin_from_structured,
    origin_from_title,
    title_import_evidence,
)
from training.sources import load_config

_TABLES = {s.name: s.mapping_table for s in load_config().sources if s.mapping_table}
UMKM, PRODUCTS, ELECTRONICS = (
    "tokopedia_umkm_2025.csv",
    "tokopedia_products_2019.csv",
    "tokopedia_electronics_categories.csv",
)


def cluster_from_category(path: str, title: str) -> str | None:
    return cluster_from_table(_TABLES[UMKM], path, title)


def cluster_from_2019_category(category: str, title: str = "") -> str | None:
    return cluster_from_table(_TABLES[PRODUCTS], category, title)


def cluster_from_electronics(node: str, title: str = "") -> str | None:
    return cluster_from_table(_TABLES[ELECTRONICS], node, title)


@pytest.mark.parametrize(
    ("path", "title", "cluster"),
    [
        ("fashion-pria/atasan-pria/kemeja", "Kemeja Batik Pria", "textile_fashion"),
        ("makanan-minuman/makanan-ringan/keripik", "Keripik Tempe", "culinary"),
        ("kecantikan/perawatan-wajah/serum-wajah", "Serum Niacinamide", "other"),
        ("komputer-laptop/aksesoris-komputer-laptop/tas-laptop", "Tas Laptop", "textile_fashion"),
        ("office-stationery/kerajinan-tangan/manik-manik", "Manik Kaca 8mm", "handicraft"),
        ("rumah-tangga/ruang-tamu-keluarga/gorden", "Gorden Blackout", "textile_fashion"),
        ("film-musik/alat-musik-tradisional/angklung", "Angklung Set", "handicraft"),
        # Decor: craft only when the title shows a craft technique (rule 4) ...
        ("rumah-tangga/dekorasi/hiasan-dinding", "Hiasan Dinding Ukiran Kayu Jepara", "handicraft"),
        ("rumah-tangga/dekorasi/vas-bunga", "Vas Gerabah Kasongan", "handicraft"),
        # ... and mass production outweighs a craft word.
        ("rumah-tangga/dekorasi/hiasan-dinding", "Hiasan Dinding Akrilik Motif Batik", "other"),
        ("rumah-tangga/dekorasi/tanaman-artificial", "Daun Palem Plastik", "other"),
        # Jewellery is fashion unless sold as handmade or traditional craft (rule 3).
        ("fashion-wanita/perhiasan-wanita/gelang", "Gelang Titanium Wanita", "textile_fashion"),
        ("fashion-wanita/perhiasan-wanita/gelang", "Gelang Manik Dayak Handmade", "handicraft"),
        # Beads alone do not make a bracelet craft.
        ("fashion-anak-bayi/perhiasan-anak/gelang", "Gelang Manik Anak Isi 12", "textile_fashion"),
        # A craft supply sold as a children's toy is a toy.
        ("office-stationery/kerajinan-tangan/ring-d", "DIY Keychain Set Mainan Anak", "other"),
        ("office-stationery/kerajinan-tangan/ring-d", "Ring D Kuningan 2cm isi 50", "handicraft"),
        # Sportswear and baby clothing are clothing wherever the scrape files them ...
        ("olahraga/sepak-bola-futsal/aksesoris", "Jersey Bola Timnas Home 2024", "textile_fashion"),
        ("olahraga/perlengkapan-lari/lainnya", "Celana Training Jogger Pria", "textile_fashion"),
        ("ibu-bayi/perlengkapan-bayi/lainnya", "Jumper Bayi Newborn Katun", "textile_fashion"),
        # ... and sports equipment whose name holds a fashion word is not.
        ("olahraga/boxing/lainnya", "Punching Bag Samsak Tinju 100cm", "other"),
        ("olahraga/sepeda/lainnya", "Lampu Sepeda LED USB", "other"),
    ],
)
def test_category_mapping(path: str, title: str, cluster: str) -> None:
    assert cluster_from_category(path, title) == cluster


def test_mixed_categories_are_left_out_rather_than_guessed() -> None:
    assert cluster_from_category("rumah-tangga/kamar-tidur/bantal-kepala", "Bantal") is None


def test_a_category_no_table_row_covers_is_left_out() -> None:
    assert cluster_from_category("kategori-baru/entah", "Barang Baru") is None


def test_other_sources_map_by_their_own_categories() -> None:
    assert cluster_from_2019_category("fashion") == "textile_fashion"
    assert cluster_from_2019_category("elektronik") == "other"
    assert cluster_from_2019_category("olahraga", "Kaos Lotto Pria Dry Fit") == "textile_fashion"
    assert cluster_from_2019_category("olahraga", "Raket Badminton Yonex") == "other"
    assert cluster_from_electronics("Film Musik > Alat Musik Tradisional") == "handicraft"
    assert cluster_from_electronics("Elektronik > Audio") == "other"


def test_traditional_instruments_are_craft_wherever_they_are_filed() -> None:
    node = "Film Musik > Drum Perkusi > Alat Perkusi Orkestra"
    assert cluster_from_electronics(node, "Hadroh Set Kayu Jepara") == "handicraft"
    assert cluster_from_electronics(node, "Stik Drum Hickory 5A") == "other"


@pytest.mark.parametrize(
    "title",
    [
        "Tas Selempang Pria Import",
        "Coklat Import Turki 100gr",
        "Kemeja Pria Made in China",
        "Snack Original Thailand Pedas",
        "Sepatu Sneakers Korea - intl",
        "Dress Wanita Barang 1mp0rt",
    ],
)
def test_explicit_import_evidence_is_found(title: str) -> None:
    assert origin_from_title(title) == "import"


@pytest.mark.parametrize(
    "title",
    [
        "Sepatu Wanita Korean Style",
        "Bibit Jambu Bangkok Unggul",
        "Tas Kulit Kualitas Import",
        "Koko Bahan Toyobo Import",
        "Baju Koko Bahan Toyobo Original Japan",
        "Kain Katun Jepang Motif Bunga",
        "Kemeja Batik Made in Indonesia",
        "Gamis Model Turki Terbaru",
        "Baju Koko Bahan Katun Toyobo Import",
        "Kemko Kancing Kombinasi Import",
    ],
)
def test_style_variety_quality_and_material_words_are_not_evidence(title: str) -> None:
    assert title_import_evidence(title) == []


@pytest.mark.parametrize(
    ("fields", "origin"),
    [
        ({"cross_border": "true"}, "import"),
        ({"cross_border": "0", "ship_from": "Jakarta Barat"}, "domestic"),
        ({"ship_from": "Luar Negeri"}, "import"),
        ({"ship_from": "CN"}, "import"),
        ({"ship_from": "ID"}, "domestic"),
        ({"seller_country": "china"}, "import"),
        ({"ship_from": "", "seller_country": ""}, None),
    ],
)
def test_structured_origin_columns_decide_where_filled(
    fields: dict[str, str], origin: str | None
) -> None:
    assert origin_from_structured(fields) == origin


def test_a_cross_border_value_that_is_not_yes_or_no_is_an_error() -> None:
    with pytest.raises(ValueError, match="maybe"):
        origin_from_structured({"cross_border": "maybe"})
