"""What a file in a photo folder is: a RAW file paired with a JPEG, or an image the catalog cannot take.

A camera set to RAW+JPEG writes ``IMG_1234.CR2`` beside ``IMG_1234.JPG``: one photo in two files. The
JPEG is shown and searched; the RAW travels with it. Files with an extension we do not read are looked
at (their first bytes only) so that a photo saved under an odd name is reported rather than ignored.
"""

from __future__ import annotations

import os

from photoclip.imaging._raw import RAW_EXTENSIONS

# The file of a RAW+JPEG pair that is shown: what the camera rendered.
SHOWN_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif")
# Files that are expected beside photos and are not images: never opened to look for one.
_NOT_IMAGES = frozenset({
    ".xmp", ".json", ".txt", ".md", ".pdf", ".xml", ".csv", ".html", ".htm", ".ini", ".db", ".zip", ".lnk",
    ".mov", ".mp4", ".m4v", ".avi", ".mkv", ".3gp", ".mts", ".m2ts", ".wav", ".mp3", ".m4a", ".aae", ".thm",
    ".pp3", ".dop", ".on1", ".cos", ".lrv", ".ds_store", ".sqlite3", ".sqlite", ".py", ".exe", ".dll",
})
_SNIFF = 32


def raw_companions(paths: list[str]) -> dict[str, str]:
    """Within one folder's files: shown file -> its RAW file, for every RAW with a same-named JPEG/HEIF."""
    shown: dict[str, str] = {}
    for p in paths:
        stem, ext = os.path.splitext(p)
        if ext.lower() in SHOWN_EXTENSIONS:
            shown.setdefault(stem.casefold(), p)
    pairs: dict[str, str] = {}
    for p in paths:
        stem, ext = os.path.splitext(p)
        partner = shown.get(stem.casefold()) if ext.lower() in RAW_EXTENSIONS else None
        if partner is not None and partner not in pairs:
            pairs[partner] = p
    return pairs


def raw_partner(shown_path: str) -> str | None:
    """The RAW file beside a JPEG/HEIF of the same name, if there is one."""
    stem, ext = os.path.splitext(shown_path)
    if ext.lower() not in SHOWN_EXTENSIONS:
        return None
    return _sibling(stem, RAW_EXTENSIONS)


def shown_partner(raw_path: str) -> str | None:
    """The JPEG/HEIF beside a RAW file, if there is one (the RAW is then that photo's companion)."""
    stem, ext = os.path.splitext(raw_path)
    if ext.lower() not in RAW_EXTENSIONS:
        return None
    return _sibling(stem, SHOWN_EXTENSIONS)


def _sibling(stem: str, extensions: frozenset[str] | tuple[str, ...]) -> str | None:
    folder, base = os.path.split(stem)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return None
    for name in sorted(names):
        n_stem, n_ext = os.path.splitext(name)
        if n_ext.lower() in extensions and n_stem.casefold() == base.casefold():
            return os.path.join(folder, name)
    return None


def uncatalogued_reason(path: str) -> str | None:
    """Why a file the scan does not catalogue deserves a mention: it holds an image under a name the
    catalog does not read. None for everything else (documents, videos, sidecars)."""
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if name.startswith(".") or ext in _NOT_IMAGES:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
    except OSError:
        return None
    kind = _image_kind(head)
    if kind is None:
        return None
    shown = ext or "no extension"
    return f"{kind} image with an unsupported file name ({shown}); rename it to catalogue it"


def _image_kind(head: bytes) -> str | None:
    from photoclip.imaging._files import DISPLAY_NAMES, _sniff

    fmt = _sniff(head)
    if fmt is not None:
        return DISPLAY_NAMES.get(fmt, fmt.upper())
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAW (Fujifilm)"
    if head[:4] in (b"IIRO", b"IIRS", b"IIU\x00") or head[4:12] == b"ftypcrx ":
        return "RAW"
    return None
