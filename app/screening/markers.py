"""Marketplace cross-border markers: explicit origin claims in a title, found by rule.

Lazada marks a cross-border (LazGlobal) item with a suffix at the end of its title ("-Intl",
"- intl", "(Intl)", "-Internasional", "- International"); sellers elsewhere say that goods
are sent from abroad ("Dikirim dari Luar Negeri", "ship from overseas", "PO China 15 hari",
"gudang China"). These are claims, like a structured ship-from field, not hints: a long title
must not dilute them, so they decide origin as structured fields do (TAXONOMY: origin), and
the answer names them with the prefix `title_marker: `.

What they are not (TAXONOMY): "Intel", "standar internasional" as a quality claim,
"International" in a brand or shop name before the end, "pre order" without a country.
"""

from __future__ import annotations

import re

from app.screening.claims import FOREIGN_COUNTRY_2

PREFIX = "title_marker: "
_COUNTRY = FOREIGN_COUNTRY_2[:-1] + r"|guangzhou|shenzhen|yiwu|beijing|shanghai|seoul|tokyo)"
_SUFFIX_WORD = r"(?:intl|internasional|international)"
# The suffix ends the title, perhaps followed by a short detail Lazada adds in brackets
# ("-INTL (Tidak Ada Penyimpanan)") and trailing punctuation. A hyphen or brackets set it
# apart; "intl" alone also counts after a space (no Indonesian or English word is "intl").
_LAZADA_SUFFIX = re.compile(
    r"(?P<marker>[-\u2010-\u2015]\s*" + _SUFFIX_WORD + r"|[(\[]\s*" + _SUFFIX_WORD + r"\s*[)\]]"
    r"|(?<=\s)intl)"
    r"[\s.,!*~]*(?:[(\[][^()\[\]]{0,40}[)\]][\s.,!*~]*)?$"
)
# "standar internasional", "kualitas - international": a quality claim, not a marker.
_QUALITY_BEFORE = re.compile(
    r"\b(?:standar|standard|standart|kualitas|quality|mutu|grade|kelas|class|taraf|bertaraf|"
    r"sertifikasi|bersertifikat|certified|level|sekolah|school|airport|bandara)\W*$"
)
_PHRASES = re.compile(
    r"\b(?:dikirim|kirim|pengiriman|ship(?:ped|ping|s)?|barang)?\s*dari\s+luar\s+negeri\b"
    r"|\bship(?:ped|ping|s)?\s+(?:from\s+)?(?:overseas|abroad)\b"
    r"|\bship(?:ped|ping|s)?\s+from\s+" + _COUNTRY + r"\b"
    r"|\b(?:po|pre\s*-?\s*order|preorder)\s+(?:dari\s+|from\s+|ex\s+)?" + _COUNTRY + r"\b"
    r"(?!\s+(?:style|look|fashion|model|design|desain)\b)"
    r"|\bgudang\s+(?:luar\s+negeri|" + _COUNTRY[1:] + r"\b"
)
# Text that every marker contains: most titles contain none of it and skip the regexes.
_KEYS = ("intl", "interna", "luar", "ship", "order", "gudang", "po ")


def title_markers(title: str) -> list[str]:
    """The cross-border markers in a title, as evidence strings (`title_marker: -Intl`)."""
    text = title.lower()
    for key in _KEYS:
        if key in text:
            break
    else:
        return []
    # Where lower-casing kept every index, show the title's own spelling of the marker.
    source = title if len(text) == len(title) else text
    found = []
    suffix = _LAZADA_SUFFIX.search(text)
    if suffix is not None and not _QUALITY_BEFORE.search(text, 0, suffix.start()):
        found.append(PREFIX + source[suffix.start("marker") : suffix.end("marker")])
    found += [PREFIX + source[m.start() : m.end()].strip() for m in _PHRASES.finditer(text)]
    return found
