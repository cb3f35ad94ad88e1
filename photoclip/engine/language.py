"""The query language for text towers that need one (NLLB-CLIP takes a FLORES-200 code token).

No language model is shipped: a query written in a script used by one main language (Japanese kana,
Korean Hangul, Thai, Greek...) names its language reliably from its characters alone. Latin-script
languages cannot be told apart that way, so they follow the user's choice (``PHOTOCLIP_QUERY_LANGUAGE``
or ``photoclip embed --language``), English when none is made.
"""

from __future__ import annotations

import os
import unicodedata

DEFAULT_LANGUAGE = "eng_Latn"
LANGUAGE_ENV = "PHOTOCLIP_QUERY_LANGUAGE"

# Unicode character-name prefixes -> FLORES-200 code, checked in this order (kana before Han:
# Japanese text mixes both, Chinese has no kana).
_SCRIPTS = (
    (("HIRAGANA", "KATAKANA"), "jpn_Jpan"),
    (("HANGUL",), "kor_Hang"),
    (("CJK UNIFIED IDEOGRAPH",), "zho_Hans"),
    (("THAI",), "tha_Thai"),
    (("GREEK",), "ell_Grek"),
    (("HEBREW",), "heb_Hebr"),
    (("ARABIC",), "arb_Arab"),
    (("DEVANAGARI",), "hin_Deva"),
    (("BENGALI",), "ben_Beng"),
    (("TAMIL",), "tam_Taml"),
    (("GEORGIAN",), "kat_Geor"),
    (("ARMENIAN",), "hye_Armn"),
    (("ETHIOPIC",), "amh_Ethi"),
    (("CYRILLIC",), "rus_Cyrl"),
)


def script_language(text: str) -> str | None:
    """The FLORES-200 code a query's script points to, or None when it is mostly Latin letters (or none)."""
    found: dict[str, int] = {}
    latin = 0
    for char in text:
        if not char.isalpha():
            continue
        if ord(char) <= 0x24F:
            latin += 1
            continue
        name = unicodedata.name(char, "")
        for prefixes, code in _SCRIPTS:
            if name.startswith(prefixes):
                found[code] = found.get(code, 0) + 1
                break
    if not found or latin >= sum(found.values()):
        return None
    for _prefixes, code in _SCRIPTS:
        if code in found:
            return code
    return None


def query_language(text: str, chosen: str | None = None) -> str:
    """The user's choice, else the script's language, else English."""
    chosen = chosen or os.environ.get(LANGUAGE_ENV) or None
    return chosen or script_language(text) or DEFAULT_LANGUAGE
