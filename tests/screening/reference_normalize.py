"""Pre-optimisation implementation of `app.screening.normalize`, kept to prove equivalence.

Revision 1 is a verbatim copy of `normalize` and `compose` (and everything they use) as they
were before the fast paths were added; do not edit it. Revision 2 (akar-1.6.0) is written
beside it the plain way, with its own copies of the new constants.
tests/screening/test_normalize_equivalence.py checks that the optimised functions return
exactly the same string as these for every input and both revisions.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
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

_SPACED_LETTERS = re.compile(r"\b(?:[a-z0-9](?:\s*[.\-_*]\s*|\s)){2,}[a-z0-9]\b")
# A run of three or more of the same letter ("importtt", "kopiii"); x is spared for XXL sizes.
_REPEATS = re.compile(r"([a-wyz])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9@!$|]+")
# "lmport", "|mport": an l or | standing for the i of "imp..." (no word starts with "lmp").
_L_FOR_I = re.compile(r"(?<![a-z0-9])[l|](?=mp)")
FOREIGN_COUNTRY = (
    r"(china|chna|cina|tiongkok|korea|jepang|japan|thailand|thai|taiwan|vietnam|vn|india|turki|"
    r"turkey|malaysia|singapore|singapura|usa|amerika|america|jerman|germany|italy|italia|"
    r"perancis|france|hongkong|hong kong|arab|saudi|mesir|egypt|australia|uk|england|inggris|"
    r"pakistan|bangladesh|brazil|brasil|belgia|belgium|swiss|spanyol|spain|philippines|"
    r"filipina|myanmar|kamboja|bangkok)"
)
# "madein", "made_in", "mde in", "m4de-in": one spelling, so the model sees one phrase. Only
# before a country, so words like "madinah" are left alone.
_MADE_IN = re.compile(
    r"\bma?de?[\s_\-.]*in(?=[\s_\-.]*(?:" + FOREIGN_COUNTRY[1:-1] + r"|indonesia|indo)\b)"
    r"[\s_\-.]*"
)
# A claim that the product itself comes from abroad (TAXONOMY: "original Thailand", "asli
# Jepang", "made in China"). Marked with one token whose weight the model learns; material
# context ("bahan wol ori korea") stays in the text for the model to weigh against it.
_ORIGIN_CLAIM = re.compile(
    r"\b(?:ori|original|asli|produk|product|made in|from|dari|impor|import|imported)\s+"
    + FOREIGN_COUNTRY
    + r"\b"
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
MATERIAL_CLAIM_TOKEN = "imported_material"
_SPACE = re.compile(r"\s+")

# -- revision 2 ---------------------------------------------------------------------------
FOREIGN_COUNTRY_2 = (
    r"(china|chna|cina|tiongkok|korea|jepang|japan|thailand|thai|taiwan|vietnam|vn|india|turki|"
    r"turkey|malaysia|singapore|singapura|usa|amerika|america|jerman|germany|italy|italia|"
    r"perancis|france|hongkong|hong kong|arab|saudi|mesir|egypt|australia|uk|england|inggris|"
    r"pakistan|bangladesh|brazil|brasil|belgia|belgium|swiss|spanyol|spain|philippines|"
    r"filipina|myanmar|kamboja|bangkok"
    r"|jpn|prc|holland|belanda|netherlands|new zealand|selandia baru|canada|kanada|rusia|"
    r"russia|mexico|meksiko|swedia|sweden|denmark|norwegia|norway|portugal|yunani|greece|"
    r"austria|polandia|poland|irlandia|ireland|skotlandia|scotland|korsel|srilanka|sri lanka|"
    r"nepal|iran|maroko|morocco|kenya|afrika|africa|peru|argentina|kolombia|colombia)"
)
_MADE_IN_2 = re.compile(
    r"\bma?de?[\s_\-./]*in(?=[\s_\-./]*(?:" + FOREIGN_COUNTRY_2[1:-1] + r"|indonesia|indo)\b)"
    r"[\s_\-./]*"
)
_ORIGIN_CLAIM_2 = re.compile(
    r"\b(?:ori|original|asli|produk|product|made in|from|dari|impor|import|imported)\s+"
    + FOREIGN_COUNTRY_2
    + r"\b"
)
_PHRASE_WORDS_2 = set(FOREIGN_COUNTRY_2[1:-1].replace("|", " ").split()) | set(
    "import impor imported made in ori original asli barang produk product from dari "
    "kualitas quality grade intl".split()
)
_IMPORT_LETTERS_2 = re.compile(r"\bi+m+p+o+r+(t*)\b")
_MATERIAL_CLAIM_2 = re.compile(
    r"(\b(bahan|material|kain|benang|kulit|leather|katun|cotton|fabric|toyobo|kancing|resleting|"
    r"zipper|sleting|rayon|sutra|silk|wol|wool|kanvas|canvas|spandex|combed|polyester|nylon|satin|"
    r"sifon|chiffon|velvet|beludru|suede|linen|twill|drill|parasut|scuba|fleece|lycra)"
    r"\W+(?:(?!(?:pria|wanita|cowok|cewek|anak|laki|perempuan|unisex|men|women|man|woman|kids|"
    r"dewasa|sepatu|sandal|sendal|tas|baju|kaos|kemeja|celana|jaket|dress|rok|hijab|jilbab)\b)"
    r"\w+\W+){0,2}?)(?:impor\w*|ori|original|asli|made in)\b"
)


def _one_import_2(m: re.Match[str]) -> str:
    return "import" if m.group(1) else "impor"


def _is_invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cf", "Cc", "Co", "Cs") and ch not in "\t\n\r"


def _deleet(token: str) -> str | None:
    """The letters a mixed letter/digit token spells, or None when it is not leetspeak."""
    if not any(c in _LEET_CHARS for c in token):
        return None
    letters = sum(c.isalpha() for c in token)
    # Product codes ("rx580", "s23") have more digits than letters: leave them alone.
    if letters < 2 or letters < len(token) - letters:
        return None
    return token.translate(_LEET)


def normalize(text: str, revision: int = 2) -> str:
    """Lower-case, de-obfuscated text; leetspeak tokens get their spelled-out form appended."""
    if revision == 2:
        return _normalize_2(text)
    assert revision == 1
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if c in "\t\n\r" else c for c in text if not _is_invisible(c))
    text = text.lower().translate(_HOMOGLYPHS)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group(0)), text)
    text = _REPEATS.sub(r"\1", text)
    extra = [d for t in _TOKEN.findall(text) if (d := _deleet(t)) is not None]
    if extra:
        text = f"{text} {' '.join(extra)}"
    text = _MADE_IN.sub("made in ", _L_FOR_I.sub("i", text))
    # The material's claim word is replaced, so the word "import" there does not count as
    # the product's evidence; the token lets the model learn what such titles are.
    text = _MATERIAL_CLAIM.sub(lambda m: m.group(1) + MATERIAL_CLAIM_TOKEN, text)
    if _ORIGIN_CLAIM.search(text):
        text = f"{text} {ORIGIN_CLAIM_TOKEN}"
    return _SPACE.sub(" ", text).strip()


def _normalize_2(text: str) -> str:
    """Revision 2: a leetspeak word of an origin or quality phrase is spelled out in place."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if c in "\t\n\r" else c for c in text if not _is_invisible(c))
    text = text.lower().translate(_HOMOGLYPHS)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group(0)), text)
    text = _REPEATS.sub(r"\1", text)
    extra = []
    words = []
    # Walk the text token by token, keeping everything between tokens as it is.
    last = 0
    for m in _TOKEN.finditer(text):
        words.append(text[last : m.start()])
        token = m.group(0)
        last = m.end()
        if not any(c in _LEET_CHARS for c in token):
            words.append(token)
            continue
        spelled = _IMPORT_LETTERS_2.sub(_one_import_2, token.translate(_LEET))
        if spelled in _PHRASE_WORDS_2:
            words.append(spelled)
            continue
        words.append(token)
        d = _deleet(token)
        if d is not None:
            extra.append(d)
    words.append(text[last:])
    text = "".join(words)
    if extra:
        text = f"{text} {' '.join(extra)}"
    text = _L_FOR_I.sub("i", text)
    text = _IMPORT_LETTERS_2.sub(_one_import_2, text)
    text = _MADE_IN_2.sub("made in ", text)
    text = _MATERIAL_CLAIM_2.sub(lambda m: m.group(1) + "material_claim", text)
    if _ORIGIN_CLAIM_2.search(text):
        text = f"{text} {ORIGIN_CLAIM_TOKEN}"
    return _SPACE.sub(" ", text).strip()


def _field(record: Any, name: str) -> str:
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    return value if isinstance(value, str) else ""


def compose(record: Any, fields: Sequence[str], max_chars: int, revision: int = 2) -> str:
    """The normalised text of one listing: the named fields, each cut to max_chars."""
    parts = []
    for name in fields:
        value = _field(record, name)
        if name == "category":
            # Category paths come as "a/b/c" or "A > B > C"; their words are what matters.
            value = re.sub(r"[/>\-_|]+", " ", value)
        if value:
            parts.append(value[:max_chars])
    return normalize(" . ".join(parts), revision)
