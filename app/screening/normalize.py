"""Text normalisation: what every model reads, in training and in serving.

Sellers dodge keyword filters with look-alike characters, zero-width spaces, spaced-out
letters and digits for letters ("1mp0rt", "i m p o r t"). Everything the models read passes
through `normalize`, inside the fitted Pipeline, so training and serving cannot drift. The
claims it marks, and what differs between its revisions, are in `app.screening.claims`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.screening.claims import (
    NORMALIZER,
    ORIGIN_CLAIM_TOKEN,
    PHRASE_WORDS,
    RULES,
    drop_origin_words,
    mark_quality_claims,
)

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
_SPACED_SEPARATORS = re.compile(r"[\s.\-_*]")
# A run of three or more of the same letter ("importtt", "kopiii"); x is spared for XXL sizes.
_REPEATS = re.compile(r"([a-wyz])\1{2,}")
# The tokens (maximal runs of [a-z0-9@!$|]) that hold a leet character, the only ones
# `_deleet` can spell out: from the start of a token (the lookbehind), its non-leet characters
# possessively (no backtracking, so linear time), a leet character, then the rest of it. Same
# list as `[t for t in re.findall(r"[a-z0-9@!$|]+", text) if <t has a leet char>]`.
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@!$|])[a-z2689]*+[013457@!$|][a-z0-9@!$|]*")
# "lmport", "|mport": an l or | standing for the i of "imp..." (no word starts with "lmp").
_L_FOR_I = re.compile(r"(?<![a-z0-9])[l|](?=mp)")
# The import word with doubled letters ("impoor", "immport", "importt"; runs of three or more
# are already one letter): revision 2 spells it once.
_IMPORT_LETTERS = re.compile(r"\bi+m+p+o+r+(t*)\b")
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
        if spelled in PHRASE_WORDS:
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
    rules = RULES.get(revision)
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
    # re's \s and str.split() both use str.isspace: the words joined by single spaces.
    return " ".join(text.split())


# Whether a type is a Mapping, by type: `isinstance` against the ABC costs more than the rest
# of `_field`, which a batch calls several times per listing.
_IS_MAPPING: dict[type, bool] = {}


def _field(record: Any, name: str) -> str:
    kind = type(record)
    mapping = _IS_MAPPING.get(kind)
    if mapping is None:
        mapping = _IS_MAPPING[kind] = isinstance(record, Mapping)
    value = record.get(name) if mapping else getattr(record, name, None)
    return value if isinstance(value, str) else ""


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
