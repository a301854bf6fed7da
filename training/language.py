"""The language a title is written in, for the evaluation's per-language slices.

py3langid (restricted to Indonesian, Malay and English) reads most product titles well, but
takes brand names and model codes for English. A title counts as English-written only when
py3langid says English with confidence and none of the common Indonesian words of listings
stands in it; everything else is Indonesian (code-mixed titles included).
"""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

ENGLISH, INDONESIAN = "en", "id"
LANGUAGES = (INDONESIAN, ENGLISH)
MIN_CONFIDENCE = 0.9
_INDONESIAN_WORDS = re.compile(
    r"\b(untuk|dan|dengan|yang|dari|isi|ukuran|warna|hitam|putih|merah|biru|baru|murah|asli|"
    r"anak|bayi|wanita|pria|cewek|cowok|perempuan|laki|baju|kaos|celana|sepatu|tas|kain|"
    r"jilbab|kerudung|kue|keripik|kopi|teh|bumbu|sambal|kerajinan|tangan|rumah|dinding|"
    r"hiasan|murah|gratis|bisa|tanpa|kualitas|bahan|motif|lengan|panjang|pendek|kotak|"
    r"eksternal|kabel|penyimpanan|ponsel|kartu|pelindung|penutup|keras|cakram)\b"
)


@cache
def _identifier() -> LanguageIdentifier:
    ident = LanguageIdentifier.from_model_file(MODEL_DIR / MODEL_FILE, norm_probs=True)
    ident.set_languages(["id", "ms", "en"])
    return ident


def language(title: str) -> str:
    """ "en" for an English-written title, "id" otherwise."""
    text = title.lower()
    if _INDONESIAN_WORDS.search(text):
        return INDONESIAN
    lang, confidence = _identifier().classify(text)
    return ENGLISH if lang == "en" and confidence >= MIN_CONFIDENCE else INDONESIAN
