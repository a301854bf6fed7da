"""The claim vocabulary the normaliser marks, and what differs between its revisions.

Countries, made-in phrases, claims that a product (or only its material) comes from abroad,
quality claims that are not origin evidence (TAXONOMY), and the origin words the cluster model
does not read. `app.screening.normalize` applies them; `training.mapping` labels with the same
rules, and `app.screening.markers` shares the country list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The revision of the normaliser new models are trained with (see `normalize`, `REVISIONS`).
NORMALIZER = 2

FOREIGN_COUNTRY = (
    r"(china|chna|cina|tiongkok|korea|jepang|japan|thailand|thai|taiwan|vietnam|vn|india|turki|"
    r"turkey|malaysia|singapore|singapura|usa|amerika|america|jerman|germany|italy|italia|"
    r"perancis|france|hongkong|hong kong|arab|saudi|mesir|egypt|australia|uk|england|inggris|"
    r"pakistan|bangladesh|brazil|brasil|belgia|belgium|swiss|spanyol|spain|philippines|"
    r"filipina|myanmar|kamboja|bangkok)"
)
# Revision 2 adds countries and short forms that sellers use ("made in jpn", "made in PRC",
# "made in holland", "impor New Zealand"). Only names that are not also Indonesian words.
FOREIGN_COUNTRY_2 = (
    FOREIGN_COUNTRY[:-1]
    + r"|jpn|prc|holland|belanda|netherlands|new zealand|selandia baru|canada|kanada|rusia|"
    r"russia|mexico|meksiko|swedia|sweden|denmark|norwegia|norway|portugal|yunani|greece|"
    r"austria|polandia|poland|irlandia|ireland|skotlandia|scotland|korsel|srilanka|sri lanka|"
    r"nepal|iran|maroko|morocco|kenya|afrika|africa|peru|argentina|kolombia|colombia)"
)
# "madein", "made_in", "mde in", "m4de-in": one spelling, so the model sees one phrase. Only
# before a country, so words like "madinah" are left alone.
_MADE_IN = re.compile(
    r"\bma?de?[\s_\-.]*in(?=[\s_\-.]*(?:" + FOREIGN_COUNTRY[1:-1] + r"|indonesia|indo)\b)"
    r"[\s_\-.]*"
)
# Revision 2 also joins "made/in/korea".
_MADE_IN_2 = re.compile(
    r"\bma?de?[\s_\-./]*in(?=[\s_\-./]*(?:" + FOREIGN_COUNTRY_2[1:-1] + r"|indonesia|indo)\b)"
    r"[\s_\-./]*"
)
# A claim that the product itself comes from abroad (TAXONOMY: "original Thailand", "asli
# Jepang", "made in China"). Marked with one token whose weight the model learns; material
# context ("bahan wol ori korea") stays in the text for the model to weigh against it.
_CLAIM_WORDS = r"\b(?:ori|original|asli|produk|product|made in|from|dari|impor|import|imported)\s+"
_ORIGIN_CLAIM = re.compile(_CLAIM_WORDS + FOREIGN_COUNTRY + r"\b")
_ORIGIN_CLAIM_2 = re.compile(_CLAIM_WORDS + FOREIGN_COUNTRY_2 + r"\b")
# The words of origin and quality phrases, which revision 2 spells out in place.
PHRASE_WORDS = frozenset(
    re.sub(r"[^a-z|]", " ", FOREIGN_COUNTRY_2).replace("|", " ").split()
    + "import impor imported made in ori original asli barang produk product from dari".split()
    + "kualitas quality grade intl".split()
)
ORIGIN_CLAIM_TOKEN = "foreign_origin_claim"
# Words for a material or part: "bahan katun toyobo import", "kancing import", "kulit impor"
# say the material is imported, not the product (TAXONOMY: not import evidence).
MATERIAL_WORDS = (
    r"(bahan|material|kain|benang|kulit|leather|katun|cotton|fabric|toyobo|kancing|resleting|"
    r"zipper|sleting|rayon|sutra|silk|wol|wool)"
)
_MATERIAL_CLAIM = re.compile(
    r"(\b" + MATERIAL_WORDS + r"\W+(?:\w+\W+){0,2}?)(?:impor\w*|ori|original|asli|made in)\b"
)
# Revision 2 also knows fabric names that are never the product itself ("tas kanvas import",
# "legging spandex import"); "denim" and "jersey" are left out, they name garments too.
MATERIAL_WORDS_2 = MATERIAL_WORDS[:-1] + (
    r"|kanvas|canvas|spandex|combed|polyester|nylon|satin|sifon|chiffon|velvet|beludru|suede|"
    r"linen|twill|drill|parasut|scuba|fleece|lycra)"
)
# Up to two words may stand between the material and its claim ("bahan katun toyobo import"),
# but not a word for who wears it or a garment: in "sepatu kanvas wanita sepatu import" the
# claim is the shoe's.
_NOT_MATERIAL_CONTEXT = (
    r"(?:pria|wanita|cowok|cewek|anak|laki|perempuan|unisex|men|women|man|woman|kids|dewasa|"
    r"sepatu|sandal|sendal|tas|baju|kaos|kemeja|celana|jaket|dress|rok|hijab|jilbab)\b"
)
_MATERIAL_CLAIM_2 = re.compile(
    r"(\b"
    + MATERIAL_WORDS_2
    + r"\W+(?:(?!"
    + _NOT_MATERIAL_CONTEXT
    + r")\w+\W+){0,2}?)(?:impor\w*|ori|original|asli|made in)\b"
)
MATERIAL_CLAIM_TOKEN = "imported_material"
# Revision 2's tokens hold no "impor": a token's character n-grams must not read as the word.
MATERIAL_CLAIM_TOKEN_2 = "material_claim"


def marker(token: str) -> Callable[[re.Match[str]], str]:
    """A material claim's replacement: the material and its words, then `token`."""

    def mark(m: re.Match[str]) -> str:
        return m.group(1) + token

    return mark


# TAXONOMY: "a quality claim ("kualitas import", "import quality")" and a style or model name
# are not import evidence. An import word in such a context is replaced by one token, so the
# origin model does not read it as the product's origin; `training.mapping` labels with the
# same rule.
IMPORT_WORD = re.compile(r"\b(import|impor|imported|imports|importir)\b")
_NOT_ORIGIN_BEFORE = re.compile(
    r"\b(kualitas|quality|grade|setara|ala|like|mirip|standar|standard|kw|seperti|rasa|model|"
    r"style|gaya)\W+(\w+\W+)?$"
)
_NOT_ORIGIN_AFTER = re.compile(r"^\W*(quality|kualitas|look|style|grade|like)\b")
QUALITY_CLAIM_TOKEN = "import_quality_claim"
QUALITY_CLAIM_TOKEN_2 = "quality_claim"  # revision 2: no "impor" in it


def is_quality_claim(text: str, match: re.Match[str]) -> bool:
    """Whether the import word `match` of `text` is a quality or style claim."""
    return bool(
        _NOT_ORIGIN_BEFORE.search(text, 0, match.start())
        or _NOT_ORIGIN_AFTER.search(text[match.end() :])
    )


def mark_quality_claims(text: str, revision: int = NORMALIZER) -> str:
    """Normalised text with each import word of a quality or style claim replaced by a token."""
    if "impor" not in text:
        return text
    token = RULES[revision].quality_token
    claims = [m for m in IMPORT_WORD.finditer(text) if is_quality_claim(text, m)]
    for m in reversed(claims):
        text = text[: m.start()] + token + text[m.end() :]
    return text


@dataclass(frozen=True, slots=True)
class Rules:
    """What differs between the normaliser's revisions (see `normalize`)."""

    spell_in_place: bool  # leetspeak words of origin and quality phrases, in their place
    fold_import_letters: bool  # "impoor", "immport"
    made_in: re.Pattern[str]
    material_claim: re.Pattern[str]
    mark_material: Callable[[re.Match[str]], str]
    origin_claim: re.Pattern[str]
    quality_token: str
    origin_words: re.Pattern[str]  # see `_origin_words`


# Words that say where a product comes from, not what it is (TAXONOMY: the cluster does not
# depend on origin). The cluster model does not read them: in the scraped listings imports
# are mostly electronics, so "import" and country names would pull an imported shirt or
# snack towards `other` and away from its protected cluster.
def _origin_words(countries: str, tokens: Sequence[str]) -> re.Pattern[str]:
    words = [r"impor\w*", countries[1:-1], ORIGIN_CLAIM_TOKEN, "made in", *tokens]
    return re.compile(r"\b(?:" + "|".join(words) + r")\b")


RULES = {
    1: Rules(
        spell_in_place=False,
        fold_import_letters=False,
        made_in=_MADE_IN,
        material_claim=_MATERIAL_CLAIM,
        mark_material=marker(MATERIAL_CLAIM_TOKEN),
        origin_claim=_ORIGIN_CLAIM,
        quality_token=QUALITY_CLAIM_TOKEN,
        origin_words=_origin_words(FOREIGN_COUNTRY, ()),
    ),
    2: Rules(
        spell_in_place=True,
        fold_import_letters=True,
        made_in=_MADE_IN_2,
        material_claim=_MATERIAL_CLAIM_2,
        mark_material=marker(MATERIAL_CLAIM_TOKEN_2),
        origin_claim=_ORIGIN_CLAIM_2,
        quality_token=QUALITY_CLAIM_TOKEN_2,
        origin_words=_origin_words(
            FOREIGN_COUNTRY_2, (MATERIAL_CLAIM_TOKEN_2, QUALITY_CLAIM_TOKEN_2)
        ),
    ),
}
# The normaliser's revisions; a model records the one it was trained with.
REVISIONS = tuple(RULES)


def drop_origin_words(text: str, revision: int = NORMALIZER) -> str:
    """Normalised text without its origin words (import, countries, the claim token)."""
    return " ".join(RULES[revision].origin_words.sub(" ", text).split())
