"""Text normalisation: what every model reads, in training and in serving.

Sellers dodge keyword filters with look-alike characters, zero-width spaces, spaced-out
letters and digits for letters ("1mp0rt", "i m p o r t"). Everything the models read passes
through `normalize`, inside the fitted Pipeline, so training and serving cannot drift.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Cyrillic and Greek letters that render like Latin ones; NFKC leaves them alone.
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ı": "i",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "κ": "k",
        "ε": "e",
        "ι": "i",
        "м": "m",
        "т": "t",
        "н": "h",
        "к": "k",
        "в": "b",
        "г": "r",
    }
)
# Digits and symbols that stand for letters inside words.
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "!": "i",
        "$": "s",
        "|": "l",
    }
)
_LEET_CHARS = frozenset("013457@!$|")
# The revision of the normaliser new models are trained with (see `normalize`, `REVISIONS`).
NORMALIZER = 2

_SPACED_LETTERS = re.compile(r"\b(?:[a-z0-9](?:\s*[.\-_*]\s*|\s)){2,}[a-z0-9]\b")
_SPACED_SEPARATORS = re.compile(r"[\s.\-_*]")
# A run of three or more of the same letter ("importtt", "kopiii"); x is spared for XXL sizes.
_REPEATS = re.compile(r"([a-wyz])\1{2,}")
# The tokens (maximal runs of [a-z0-9@!$|]) that hold a leet character, the only ones
# `_deleet` can spell out: from the start of a token (the lookbehind), its non-leet characters
# possessively (no backtracking, so linear time), a leet character, then the rest of it. Same
# list as the former `[t for t in re.findall(r"[a-z0-9@!$|]+", text) if <t has a leet char>]`.
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@!$|])[a-z2689]*+[013457@!$|][a-z0-9@!$|]*")
# "lmport", "|mport": an l or | standing for the i of "imp..." (no word starts with "lmp").
_L_FOR_I = re.compile(r"(?<![a-z0-9])[l|](?=mp)")
# The import word with doubled letters ("impoor", "immport", "importt"; runs of three or more
# are already one letter): revision 2 spells it once.
_IMPORT_LETTERS = re.compile(r"\bi+m+p+o+r+(t*)\b")
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
_PHRASE_WORDS = frozenset(
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
_CATEGORY_SEPARATORS = re.compile(r"[/>\-_|]+")


_INVISIBLE_CATEGORIES = frozenset(("Cf", "Cc", "Co", "Cs"))


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES and ch not in "\t\n\r"


# What the invisible-character pass does to the 128 ASCII characters, computed from
# `_is_invisible` itself: the ASCII controls (Cc, 0x00-0x1f and 0x7f) are dropped, tab,
# newline and carriage return become spaces, everything else is kept (no ASCII character is
# Cf, Co or Cs). A per-character map, so str.translate with it is exactly the old generator.
_ASCII_INVISIBLE = str.maketrans(
    {
        chr(i): (" " if chr(i) in "\t\n\r" else None)
        for i in range(128)
        if _is_invisible(chr(i)) or chr(i) in "\t\n\r"
    }
)


def _drop_invisible(text: str) -> str:
    """`text` without invisible characters, with tab/newline/CR as spaces."""
    text = text.translate(_ASCII_INVISIBLE)
    if text.isascii():
        return text
    # Non-ASCII characters are judged by unicodedata.category, the definition, once per
    # distinct character of this text (no cache that could grow without bound).
    drop = {ord(c): None for c in set(text) if not c.isascii() and _is_invisible(c)}
    return text.translate(drop) if drop else text


def is_blank(text: str) -> bool:
    """Whether `text` has nothing visible: only whitespace and invisible characters."""
    return not _drop_invisible(text).strip()


def _deleet(token: str) -> str | None:
    """The letters a mixed letter/digit token spells, or None when it is not leetspeak."""
    if not any(c in _LEET_CHARS for c in token):
        return None
    # Token characters are [a-z0-9@!$|]: map(str.isalpha) counts the same as a generator.
    letters = sum(map(str.isalpha, token))
    # Product codes ("rx580", "s23") have more digits than letters: leave them alone.
    if letters < 2 or letters < len(token) - letters:
        return None
    return token.translate(_LEET)


def _first_group(m: re.Match[str]) -> str:
    # The same text as the template r"\1" (group 1 always takes part in a _REPEATS match),
    # but sub() calls it only on a match instead of parsing the template on every call.
    return m.group(1)


def _join_spaced(m: re.Match[str]) -> str:
    return _SPACED_SEPARATORS.sub("", m.group(0))


def _marker(token: str) -> Callable[[re.Match[str]], str]:
    """A material claim's replacement: the material and its words, then `token`."""

    def mark(m: re.Match[str]) -> str:
        return m.group(1) + token

    return mark


def _spell_out(extra: list[str]) -> Callable[[re.Match[str]], str]:
    """Revision 2's leetspeak pass over the tokens that hold a leet character.

    A token that spells a word of an origin or quality phrase ("1mp0rt", "m4de", "1n",
    "0r1", "ch1na") is replaced by that word, so "kualitas 1mport" reads exactly as
    "kualitas import". Any other leetspeak token stays, with its spelled-out form appended
    (to `extra`) as in revision 1, so "5kg" and "usb3" keep their place.
    """

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        spelled = _IMPORT_LETTERS.sub(_one_import, token.translate(_LEET))
        if spelled in _PHRASE_WORDS:
            return spelled
        deleeted = _deleet(token)
        if deleeted is not None:
            extra.append(deleeted)
        return token

    return sub


def _one_import(m: re.Match[str]) -> str:
    return "import" if m.group(1) else "impor"


def normalize(text: str, revision: int = NORMALIZER) -> str:
    """Lower-case, de-obfuscated text.

    Revision 1 appends the spelled-out form of each leetspeak token to the text. Revision 2
    (models from akar-1.6.0) replaces a leetspeak word of an origin or quality phrase by the
    word, in its place, so that the phrase is read as one ("kualitas 1mport" is a quality
    claim, "m4de 1n ch1na" a made-in claim); see `_spell_out`. It also folds doubled letters
    of the import word ("impoor", "immport"), joins "made/in", and knows more countries
    (`FOREIGN_COUNTRY_2`).
    A model records its revision, so it is always served with the text it was trained on.

    The `in` checks before the regex passes are exact shortcuts: each names literal text
    that every match of the pattern contains, so without it the pass changes nothing.
    tests/screening/test_normalize_equivalence.py holds this to the pre-optimisation code.
    """
    rules = _RULES.get(revision)
    if rules is None:
        raise ValueError(f"unknown normaliser revision {revision!r}")
    text = html.unescape(text)  # returns the text itself at once when it has no "&"
    if text.isascii():
        # NFKC maps every ASCII character to itself and no homoglyph is ASCII (lower() keeps
        # ASCII ASCII), so only the control characters and the case change. The only ASCII
        # characters str.isprintable rejects are the controls, the table's keys.
        if not text.isprintable():
            text = text.translate(_ASCII_INVISIBLE)
        text = text.lower()
    else:
        text = _drop_invisible(unicodedata.normalize("NFKC", text))
        text = text.lower().translate(_HOMOGLYPHS)
    text = _SPACED_LETTERS.sub(_join_spaced, text)
    text = _REPEATS.sub(_first_group, text)
    if rules.spell_in_place:
        extra: list[str] = []
        text = _LEET_TOKEN.sub(_spell_out(extra), text)
    else:
        extra = [d for t in _LEET_TOKEN.findall(text) if (d := _deleet(t)) is not None]
    if extra:
        text = f"{text} {' '.join(extra)}"
    if "mp" in text:  # _L_FOR_I's lookahead needs "mp", so does every match of _IMPORT_LETTERS
        text = _L_FOR_I.sub("i", text)
        if rules.fold_import_letters:
            text = _IMPORT_LETTERS.sub(_one_import, text)
    # _MADE_IN needs "m", an optional "a", then "d" ("md" or "mad"), and later "in".
    if "in" in text and ("md" in text or "mad" in text):
        text = rules.made_in.sub("made in ", text)
    # The material's claim word is replaced, so the word "import" there does not count as
    # the product's evidence; the token lets the model learn what such titles are.
    # Every claim word contains one of these ("original" has "ori", "impor\w*" has "impor").
    if "ori" in text or "impor" in text or "asli" in text or "made in" in text:
        text = rules.material_claim.sub(rules.mark_material, text)
    # The same for _ORIGIN_CLAIM's words ("produk" and "product" both have "produ").
    if (
        "ori" in text
        or "impor" in text
        or "asli" in text
        or "made in" in text
        or "produ" in text
        or "from" in text
        or "dari" in text
    ) and rules.origin_claim.search(text):
        text = f"{text} {ORIGIN_CLAIM_TOKEN}"
    # Was _SPACE.sub(" ", text).strip(): re's \s and str.split()/strip() both use
    # str.isspace, so both give the words joined by single spaces.
    return " ".join(text.split())


def _field(record: Any, name: str) -> str:
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    return value if isinstance(value, str) else ""


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
    token = _RULES[revision].quality_token
    claims = [m for m in IMPORT_WORD.finditer(text) if is_quality_claim(text, m)]
    for m in reversed(claims):
        text = text[: m.start()] + token + text[m.end() :]
    return text


@dataclass(frozen=True, slots=True)
class _Rules:
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


_RULES = {
    1: _Rules(
        spell_in_place=False,
        fold_import_letters=False,
        made_in=_MADE_IN,
        material_claim=_MATERIAL_CLAIM,
        mark_material=_marker(MATERIAL_CLAIM_TOKEN),
        origin_claim=_ORIGIN_CLAIM,
        quality_token=QUALITY_CLAIM_TOKEN,
        origin_words=_origin_words(FOREIGN_COUNTRY, ()),
    ),
    2: _Rules(
        spell_in_place=True,
        fold_import_letters=True,
        made_in=_MADE_IN_2,
        material_claim=_MATERIAL_CLAIM_2,
        mark_material=_marker(MATERIAL_CLAIM_TOKEN_2),
        origin_claim=_ORIGIN_CLAIM_2,
        quality_token=QUALITY_CLAIM_TOKEN_2,
        origin_words=_origin_words(
            FOREIGN_COUNTRY_2, (MATERIAL_CLAIM_TOKEN_2, QUALITY_CLAIM_TOKEN_2)
        ),
    ),
}
# The normaliser's revisions; a model records the one it was trained with.
REVISIONS = tuple(_RULES)


def drop_origin_words(text: str, revision: int = NORMALIZER) -> str:
    """Normalised text without its origin words (import, countries, the claim token)."""
    return " ".join(_RULES[revision].origin_words.sub(" ", text).split())


def compose(
    record: Any,
    fields: Sequence[str],
    max_chars: int,
    *,
    quality_claims: bool = False,
    without_origin: bool = False,
    revision: int = NORMALIZER,
) -> str:
    """The normalised text of one listing: the named fields, each cut to max_chars.

    `quality_claims` marks import words that are quality claims (see `mark_quality_claims`);
    `without_origin` then drops the origin words (see `drop_origin_words`): the cluster's text.
    `revision` is the normaliser's (see `normalize`).
    """
    parts = []
    for name in fields:
        value = _field(record, name)
        if name == "category":
            # Category paths come as "a/b/c" or "A > B > C"; their words are what matters.
            value = _CATEGORY_SEPARATORS.sub(" ", value)
        if value:
            parts.append(value[:max_chars])
    text = normalize(" . ".join(parts), revision)
    if quality_claims:
        text = mark_quality_claims(text, revision)
    return drop_origin_words(text, revision) if without_origin else text
