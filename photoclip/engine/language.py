"""The query language for text towers that need one (NLLB-CLIP takes a FLORES-200 code token).

No language model is shipped: a query written in a script used by one main language (Japanese kana,
Korean Hangul, Thai, Greek...) names its language reliably from its characters alone. Latin-script
languages cannot be told apart that way, so they follow the user's choice, English when none is made.

Who decides, first to last: an explicit choice for one query (``photoclip search --language``,
``photoclip embed --language``), the library's "query language" setting, ``PHOTOCLIP_QUERY_LANGUAGE``,
the query's script, English.
"""

from __future__ import annotations

import os
import re
import unicodedata

DEFAULT_LANGUAGE = "eng_Latn"
LANGUAGE_ENV = "PHOTOCLIP_QUERY_LANGUAGE"
AUTOMATIC = "auto"  # the setting's value for "from the query's script, else English"
FLORES_CODE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")

# A short list of common FLORES-200 codes for choosing in the app (any code the model knows works).
COMMON_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("eng_Latn", "English"), ("deu_Latn", "German"), ("fra_Latn", "French"), ("spa_Latn", "Spanish"),
    ("ita_Latn", "Italian"), ("por_Latn", "Portuguese"), ("nld_Latn", "Dutch"), ("pol_Latn", "Polish"),
    ("ces_Latn", "Czech"), ("swe_Latn", "Swedish"), ("dan_Latn", "Danish"), ("nob_Latn", "Norwegian Bokmål"),
    ("fin_Latn", "Finnish"), ("hun_Latn", "Hungarian"), ("ron_Latn", "Romanian"), ("tur_Latn", "Turkish"),
    ("vie_Latn", "Vietnamese"), ("ind_Latn", "Indonesian"), ("rus_Cyrl", "Russian"), ("ukr_Cyrl", "Ukrainian"),
    ("ell_Grek", "Greek"), ("heb_Hebr", "Hebrew"), ("arb_Arab", "Arabic"), ("hin_Deva", "Hindi"),
    ("ben_Beng", "Bengali"), ("tha_Thai", "Thai"), ("jpn_Jpan", "Japanese"), ("kor_Hang", "Korean"),
    ("zho_Hans", "Chinese (Simplified)"), ("zho_Hant", "Chinese (Traditional)"),
)

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


def chosen_language(explicit: str | None = None, setting: str | None = None) -> str | None:
    """The language the user chose for a query: an explicit one, else the setting unless it is
    "auto"; None leaves it to :func:`query_language` (environment, script, English)."""
    if explicit:
        return explicit
    return setting if setting and setting != AUTOMATIC else None


def query_language(text: str, chosen: str | None = None) -> str:
    """The user's choice, else ``PHOTOCLIP_QUERY_LANGUAGE``, else the script's language, else English."""
    chosen = chosen or os.environ.get(LANGUAGE_ENV) or None
    return chosen or script_language(text) or DEFAULT_LANGUAGE


def language_name(code: str) -> str:
    """A readable name for a FLORES-200 code ("German"), or the code itself when it is not listed."""
    return dict(COMMON_LANGUAGES).get(code, code)
