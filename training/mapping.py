"""Weak labels for the real listing data: category path to cluster, and title to origin.

The labels follow ../shared/TAXONOMY.md. A category path decides the cluster where it is
unambiguous; where a category mixes craft and mass-produced goods (decor, souvenirs,
jewellery), the title decides by the taxonomy's boundary rules. `None` means "too ambiguous
to train on": such rows are left out rather than guessed.
"""

from __future__ import annotations

import re

from app.screening.normalize import FOREIGN_COUNTRY_2, IMPORT_WORD, is_quality_claim, normalize

TEXTILE, CULINARY, HANDICRAFT, OTHER = "textile_fashion", "culinary", "handicraft", "other"

# Words that show a craft technique or a traditional craft (TAXONOMY boundary rule 4).
_CRAFT = re.compile(
    r"\b(anyam\w*|rotan|bambu|pandan|mendong|purun|eceng gondok|lidi|ukir\w*|pahat\w*|jepara|"
    r"gerabah|tanah liat|terakota|terracotta|kasongan|wayang|topeng|batik|tenun|songket|"
    r"handmade|hand made|buatan tangan|kerajinan|rajut\w*|crochet|makrame|macrame|"
    r"tradisional|etnik|ethnic|dayak|lukis\w*|decoupage|sulam\w*|manik\w*|kayu jati|"
    r"batok|tempurung|kerang|akar kayu|suvenir|souvenir|miniatur)\b"
)
# Signs of mass production that outweigh a craft word in decor.
_MASS = re.compile(
    r"\b(plastik|plastic|akrilik|acrylic|led|artificial|stiker|sticker|wall ?sticker|"
    r"lampu|print|printing|cetak|poster|balon|pvc|3d|resin|mdf|laser|hoki|besi|metal|"
    r"stainless|kanvas print|frame foto)\b"
)
# Jewellery sold as handmade or traditional craft (rule 3). Beads alone do not say so: most
# "gelang manik" in the fashion categories are children's or Korean-style fashion bracelets.
_JEWELLERY_CRAFT = re.compile(r"\b(handmade|hand made|etnik|ethnic|dayak|tradisional)\b")
# A craft-supply listing sold as a children's toy or kit ("DIY keychain set mainan anak") is a
# toy, `other` (TAXONOMY: toys), as the authored `toy_craft_kit` examples are labelled.
_TOY = re.compile(r"\b(mainan|toys?|edukasi|edukatif)\b")

# Category prefixes (Tokopedia slugs, umkm_2025) mapped to clusters; the longest prefix wins.
_PREFIX = {
    "fashion-": TEXTILE,
    "makanan-minuman": CULINARY,
    "office-stationery/kerajinan-tangan": HANDICRAFT,
    "office-stationery/peralatan-jahit/kain-dan-bahan": TEXTILE,
    "film-musik/alat-musik-tradisional": HANDICRAFT,
    "mainan-hobi/boneka/boneka-rajut": HANDICRAFT,
    "mainan-hobi/kostum": TEXTILE,
    "kecantikan/aksesoris-rambut/bando-bandana": TEXTILE,
    "kecantikan/aksesoris-rambut/ikat-rambut": TEXTILE,
    "kecantikan/aksesoris-rambut/jepitan-rambut": TEXTILE,
    "kecantikan/aksesoris-rambut/mahkota-headpiece": TEXTILE,
    "komputer-laptop/aksesoris-komputer-laptop/tas-laptop": TEXTILE,
    "rumah-tangga/travel/travel-bag": TEXTILE,
    "rumah-tangga/kamar-tidur/selimut": TEXTILE,
    "rumah-tangga/kamar-tidur/mattress-cover": TEXTILE,
    "rumah-tangga/ruang-tamu-keluarga/gorden": TEXTILE,
    "rumah-tangga/kamar-mandi/kimono-mandi": TEXTILE,
    "ibu-bayi/perlengkapan-tidur-bayi/selimut-bayi": TEXTILE,
    "ibu-bayi/perlengkapan-mandi-bayi/handuk-washlap-bayi": TEXTILE,
    "kesehatan/perlengkapan-medis/seragam-medis": TEXTILE,
    "pertukangan/alat-keselamatan/safety-boots": TEXTILE,
    "otomotif/aksesoris-pengendara-motor/jaket-motor": TEXTILE,
    "otomotif/aksesoris-pengendara-motor/sepatu-biker": TEXTILE,
    "olahraga/pakaian-olahraga": TEXTILE,
    "olahraga/perlengkapan-lari/sepatu": TEXTILE,
    "olahraga/perlengkapan-lari/celana": TEXTILE,
    "olahraga/hiking-camping/jaket": TEXTILE,
    "olahraga/hiking-camping/sandal": TEXTILE,
    "olahraga/hiking-camping/sepatu": TEXTILE,
    "olahraga/hiking-camping/tas": TEXTILE,
    "olahraga/aksesoris-olahraga/tas": TEXTILE,
    "olahraga/basket/sepatu": TEXTILE,
    "olahraga/basket/tas": TEXTILE,
    "olahraga/voli/sepatu": TEXTILE,
    "olahraga/olahraga-air/baju-renang": TEXTILE,
    "olahraga/sepak-bola-futsal/jersey": TEXTILE,
    "olahraga/sepak-bola-futsal/kaos-kaki": TEXTILE,
    "olahraga/golf/topi": TEXTILE,
}
# Categories that mix craft with mass-produced goods: the title decides (rule 4).
_MIXED_DECOR = (
    "rumah-tangga/dekorasi",
    "rumah-tangga/tempat-penyimpanan/keranjang",
    "rumah-tangga/taman/hiasan-taman",
    "perlengkapan-pesta/hadiah",
    "perlengkapan-pesta/persiapan-pernikahan/souvenir-pernikahan",
    "perlengkapan-pesta/bunga/bunga-flanel",
    "mainan-hobi/figure/miniatur",
)
# Categories whose contents are too mixed to train on at all.
_SKIP = (
    "rumah-tangga/ruang-tamu-keluarga/bantal-sofa",
    "rumah-tangga/kamar-tidur/bantal-kepala",
    "office-stationery/peralatan-jahit/perlengkapan-jahit",
    "office-stationery/peralatan-jahit/renda-bordir",
    "office-stationery/peralatan-jahit/patch-emblem",
    "mainan-hobi/mainan-anak-anak/beads-anak",
    "mainan-hobi/mainan-anak-anak/loom-bands",
)


def _longest_prefix(path: str, table: dict[str, str]) -> str | None:
    best = max((p for p in table if path.startswith(p)), key=len, default=None)
    return table[best] if best is not None else None


def is_craft_title(title: str) -> bool:
    text = normalize(title)
    return bool(_CRAFT.search(text)) and not _MASS.search(text)


def cluster_from_category(path: str, title: str) -> str | None:
    """Cluster for a Tokopedia category slug path (umkm_2025), with title rules where mixed."""
    path = path.strip().lower()
    if path.startswith(_SKIP):
        return None
    if path.startswith(_MIXED_DECOR):
        return HANDICRAFT if is_craft_title(title) else OTHER
    if path.startswith("office-stationery/kerajinan-tangan") and _TOY.search(normalize(title)):
        return OTHER
    label = _longest_prefix(path, _PREFIX)
    if label == TEXTILE and "/perhiasan-" in path and _JEWELLERY_CRAFT.search(normalize(title)):
        return HANDICRAFT  # rule 3: jewellery sold as handmade or traditional craft
    return label or OTHER


# Clothing, footwear, bags and fashion accessories (TAXONOMY: textile_fashion), in Indonesian
# and English. The non-fashion categories of two scrapes hold such goods too: sportswear under
# "olahraga", and cross-border shops' beanies, scrunchies and bags under music nodes. Labelled
# `other` they would teach the model that "beanie hat" is not fashion, so they are left out.
_FASHION_ITEM = re.compile(
    r"\b(baju|kaos|kaus|kemeja|blus|blouse|celana|rok|gaun|dress|jaket|jas|hoodie|sweater|"
    r"kardigan|cardigan|jilbab|hijab|kerudung|mukena|daster|piyama|pajama|legging|leggings|"
    r"manset|pakaian|kaos kaki|sepatu|sandal|sendal|sneakers?|shoes?|boots?|tas|ransel|dompet|"
    r"topi|beanie|hat|cap|scarf|syal|gloves?|sarung tangan|socks?|ikat pinggang|sabuk|belt|"
    r"kalung|necklace|gelang|bracelet|anting|earrings?|bros|brooch|jepit rambut|hair clip|"
    r"scrunchies?|bando|headband|bra|lingerie|underwear|celana dalam|bikini|swimsuit|"
    r"baju renang|jersey|shirt|t-shirt|tshirt|pants|trousers|jeans|skirt|jacket|coat|"
    r"bag|backpack|wallet|purse|collar)\b"
)


def cluster_from_2019_category(category: str, title: str = "") -> str | None:
    """tokopedia_products_2019: fashion, or one of four non-fashion categories (whose fashion
    goods, by the title, are left out)."""
    if category.strip().lower() == "fashion":
        return TEXTILE
    return None if _FASHION_ITEM.search(normalize(title)) else OTHER


_TRADITIONAL_INSTRUMENT = re.compile(
    r"\b(rebana|hadroh|hadrah|marawis|kendang|gendang|angklung|gamelan|kolintang|sasando|"
    r"suling|seruling|dumbuk|darbuka|bedug|beduk|gong|kecapi|siter|talempong|tifa|calung|"
    r"bonang|saron|kulintang|tambur|jimbe|djembe|hulusi)\b"
)


def cluster_from_electronics(node: str, title: str = "") -> str | None:
    """tokopedia_electronics_categories: all other, but traditional instruments are craft,
    whether the category says so or only the title does (hadroh sets sit under percussion),
    and fashion goods are left out."""
    text = normalize(title)
    if "alat musik tradisional" in node.lower() or _TRADITIONAL_INSTRUMENT.search(text):
        return HANDICRAFT
    return None if _FASHION_ITEM.search(text) else OTHER


_COUNTRY = FOREIGN_COUNTRY_2
_MADE_IN = re.compile(r"\bmade\W+in\W+(?!indonesia\b|indo\b|ina\b|ri\b)" + _COUNTRY + r"\b")
_ORI_COUNTRY = re.compile(r"\b(ori|original|asli|produk|product|from|dari)\W+" + _COUNTRY + r"\b")
_INTL = re.compile(r"(-\s*intl\b|\blazada\W*intl\b|\bintl\s*$)")


def title_import_evidence(title: str) -> list[str]:
    """Explicit import evidence in a title (TAXONOMY origin rules), as matched phrases."""
    text = normalize(title)
    found: list[str] = []
    # An import word in a quality or style claim ("kualitas import") is not evidence.
    found.extend(m.group(0) for m in IMPORT_WORD.finditer(text) if not is_quality_claim(text, m))
    for pattern in (_MADE_IN, _INTL):
        found.extend(m.group(0) for m in pattern.finditer(text))
    # A material's claim ("bahan toyobo original japan") was already rewritten by `normalize`.
    found.extend(m.group(0) for m in _ORI_COUNTRY.finditer(text))
    return found


def origin_from_title(title: str) -> str:
    return "import" if title_import_evidence(title) else "domestic"
