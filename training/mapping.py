"""Weak labels for the real listing data: category path to cluster, and title to origin.

The labels follow ../shared/TAXONOMY.md. A category path decides the cluster where it is
unambiguous; where a category mixes craft and mass-produced goods (decor, souvenirs,
jewellery), the title decides by the taxonomy's boundary rules. `None` means "too ambiguous
to train on": such rows are left out rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from app.screening.claims import FOREIGN_COUNTRY_2, IMPORT_WORD, is_quality_claim
from app.screening.countries import DOMESTIC as DOMESTIC_CODE
from app.screening.countries import ISO_3166_ALPHA2
from app.screening.markers import title_markers
from app.screening.model import CLUSTER_LABELS, ORIGIN_LABELS
from app.screening.normalize import normalize

TEXTILE, CULINARY, HANDICRAFT, OTHER = CLUSTERS = CLUSTER_LABELS
DOMESTIC, IMPORT = ORIGINS = ORIGIN_LABELS


class MappingRowLike(Protocol):
    """A row of a category-to-cluster mapping table (training.sources.MappingRow)."""

    @property
    def prefix(self) -> str: ...
    @property
    def cluster(self) -> str | None: ...
    @property
    def rule(self) -> str | None: ...


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


def is_craft_title(title: str) -> bool:
    text = normalize(title)
    return bool(_CRAFT.search(text)) and not _MASS.search(text)


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
    r"bag|backpack|wallet|purse|collar|jumper|romper|bodysuit|setelan|gamis|tunik|kebaya|singlet)\b"
)


_TRADITIONAL_INSTRUMENT = re.compile(
    r"\b(rebana|hadroh|hadrah|marawis|kendang|gendang|angklung|gamelan|kolintang|sasando|"
    r"suling|seruling|dumbuk|darbuka|bedug|beduk|gong|kecapi|siter|talempong|tifa|calung|"
    r"bonang|saron|kulintang|tambur|jimbe|djembe|hulusi)\b"
)


def _craft_decor(title: str, label: str | None) -> str | None:
    """Decor that mixes craft with mass production: craft only with a technique (rule 4)."""
    return HANDICRAFT if is_craft_title(title) else OTHER


def _craft_unless_toy(title: str, label: str | None) -> str | None:
    """Craft supplies, unless sold as a children's toy or kit."""
    return OTHER if _TOY.search(normalize(title)) else HANDICRAFT


def _jewellery(title: str, label: str | None) -> str | None:
    """Fashion jewellery, unless sold as handmade or traditional craft (rule 3)."""
    return HANDICRAFT if _JEWELLERY_CRAFT.search(normalize(title)) else (label or TEXTILE)


# Sports equipment whose names hold a fashion word ("punching bag", "sepatu roda"): not clothing.
_SPORT_GEAR = re.compile(
    r"\b(punching bag|samsak|sepatu roda|roller|skate\w*|deker|decker|helm|pelindung|"
    r"sarung tinju|boxing gloves?|raket|racket|matras|mat|dumbbell|barbel|net|mitt|"
    r"punching|baseball|softball|kiper)\b"
)


def _fashion_or_other(title: str, label: str | None) -> str | None:
    """Categories of goods for a sport or a baby: clothing, shoes and bags among them are
    clothing (TAXONOMY: sportswear, baby clothing), the rest is `label` (other)."""
    text = normalize(title)
    if _FASHION_ITEM.search(text) and not _SPORT_GEAR.search(text):
        return TEXTILE
    return label or OTHER


def _other_unless_fashion(title: str, label: str | None) -> str | None:
    """Non-fashion categories whose fashion goods are left out: labelled `other`, a beanie
    filed under music would teach the model that a beanie is not fashion."""
    return None if _FASHION_ITEM.search(normalize(title)) else (label or OTHER)


def _instrument(title: str, label: str | None) -> str | None:
    """Electronics and music: traditional instruments are craft wherever they are filed
    (hadroh sets sit under percussion); fashion goods are left out."""
    if _TRADITIONAL_INSTRUMENT.search(normalize(title)):
        return HANDICRAFT
    return _other_unless_fashion(title, label)


def _skip(title: str, label: str | None) -> str | None:
    """Too mixed to train on: left out rather than guessed."""
    return None


# The title rules a mapping table may name, for categories that a path alone cannot decide.
RULES: dict[str, Callable[[str, str | None], str | None]] = {
    "craft_decor": _craft_decor,
    "craft_unless_toy": _craft_unless_toy,
    "jewellery": _jewellery,
    "fashion_or_other": _fashion_or_other,
    "other_unless_fashion": _other_unless_fashion,
    "instrument": _instrument,
    "skip": _skip,
}


def table_row(table: Sequence[MappingRowLike], key: str) -> MappingRowLike | None:
    """The row whose category prefix is the longest match of `key`; None if none matches."""
    path = key.strip().lower()
    best: MappingRowLike | None = None
    for row in table:
        if path.startswith(row.prefix) and (best is None or len(row.prefix) > len(best.prefix)):
            best = row
    return best


def cluster_from_table(table: Sequence[MappingRowLike], key: str, title: str) -> str | None:
    """The cluster a mapping table gives a category (and the title, where a rule decides);
    None where the row is left out or no row covers the category."""
    row = table_row(table, key)
    if row is None:
        return None
    return RULES[row.rule](title, row.cluster) if row.rule else row.cluster


_ABROAD_WORDS = frozenset({"luar negeri", "overseas", "abroad", "international", "cross border"})
_TRUE = frozenset({"1", "true", "yes", "y", "ya"})
_FALSE = frozenset({"0", "false", "no", "n", "tidak"})


def origin_from_structured(fields: Mapping[str, str]) -> str | None:
    """Origin from a source's structured columns (cross_border, ship_from, seller_country):
    "import" when one says abroad, "domestic" when one is filled and none does, None when all
    are empty (the title rules decide then). A location or country is abroad when it is a
    foreign country (an ISO code other than ID, or a country's name) or "Luar Negeri"."""
    filled = False
    for key, raw in fields.items():
        value = " ".join(raw.lower().split())
        if not value:
            continue
        filled = True
        if key == "cross_border":
            if value in _TRUE:
                return IMPORT
            if value not in _FALSE:
                raise ValueError(f"cross_border value {raw!r} is not a yes or no")
        elif value in _ABROAD_WORDS or _is_foreign(value):
            return IMPORT
    return DOMESTIC if filled else None


def _is_foreign(value: str) -> bool:
    if len(value) == 2 and value.isalpha():
        return value.upper() in ISO_3166_ALPHA2 and value.upper() != DOMESTIC_CODE
    return _FOREIGN_PLACE.fullmatch(value) is not None


_COUNTRY = FOREIGN_COUNTRY_2
_MADE_IN = re.compile(r"\bmade\W+in\W+(?!indonesia\b|indo\b|ina\b|ri\b)" + _COUNTRY + r"\b")
_ORI_COUNTRY = re.compile(r"\b(ori|original|asli|produk|product|from|dari)\W+" + _COUNTRY + r"\b")
_FOREIGN_PLACE = re.compile(_COUNTRY)


def title_import_evidence(title: str) -> list[str]:
    """Explicit import evidence in a title (TAXONOMY origin rules), as matched phrases."""
    text = normalize(title)
    found: list[str] = []
    # An import word in a quality or style claim ("kualitas import") is not evidence.
    found.extend(m.group(0) for m in IMPORT_WORD.finditer(text) if not is_quality_claim(text, m))
    found.extend(m.group(0) for m in _MADE_IN.finditer(text))
    # A marketplace's cross-border marker, as the service finds it.
    found.extend(title_markers(title))
    # A material's claim ("bahan toyobo original japan") was already rewritten by `normalize`.
    found.extend(m.group(0) for m in _ORI_COUNTRY.finditer(text))
    return found


def origin_from_title(title: str) -> str:
    return IMPORT if title_import_evidence(title) else DOMESTIC
