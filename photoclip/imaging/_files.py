"""Opening a file as an image: size limit, format detection and the wording of every failure."""

from __future__ import annotations

import errno
import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from PIL import Image

from photoclip.errors import DecodeError

MAX_PIXELS = 200_000_000
"""Refuse images above this many pixels (after reading the header only): a 200 MP photo fits in about
600 MB as RGB, while a forged header can claim sizes that would exhaust memory."""

# Pillow format ids we let Image.open try, in this order. Limiting the list keeps exotic parsers away
# from arbitrary files, and stops text that happens to start like some obscure format being "decoded".
_PIL_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")
_FORMAT_OF_PIL = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif",
                  "TIFF": "tiff", "BMP": "bmp", "AVIF": "avif"}
DISPLAY_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF", "tiff": "TIFF", "bmp": "BMP",
                 "heic": "HEIC", "heif": "HEIF", "avif": "AVIF"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}

_plugins_ready = False
_open_formats: tuple[str, ...] = ()


def register_plugins() -> None:
    """Register HEIC/HEIF once, and make Pillow's own bomb check agree with ``MAX_PIXELS``."""
    global _plugins_ready, _open_formats
    if _plugins_ready:
        return
    Image.init()
    try:
        import pillow_heif

        pillow_heif.register_heif_opener(thumbnails=True)
    except ImportError:  # HEIC files then fail with a clear reason rather than breaking every format
        pass
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we refuse above MAX_PIXELS
    # ourselves (with the size in the message), so Pillow must not refuse earlier than we do.
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    _open_formats = tuple(fid for fid in _PIL_FORMATS if fid in Image.OPEN)
    _plugins_ready = True


def _megapixels(pixels: int) -> str:
    mp = pixels / 1_000_000
    return f"{mp:.0f}" if mp >= 10 or mp == int(mp) else f"{mp:.1f}"


def _too_large(width: int, height: int) -> str:
    return (f"image too large: {width}x{height} ({_megapixels(width * height)} MP, "
            f"limit {_megapixels(MAX_PIXELS)} MP)")


# Read failures that say "not now" rather than "never": disks and shares that hiccup.
TRANSIENT_ERRNOS = frozenset({errno.EIO, errno.ESTALE, errno.ETIMEDOUT, errno.EAGAIN, errno.EINTR, errno.ENOTCONN,
                              errno.EHOSTDOWN, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ENETUNREACH,
                              errno.ECONNRESET, errno.ENODEV, errno.ENXIO})


def is_transient(exc: OSError) -> bool:
    return exc.errno in TRANSIENT_ERRNOS


def _read_error(exc: OSError) -> DecodeError:
    return DecodeError(_os_reason(exc), unreadable=True, transient=is_transient(exc))


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file vanished"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read the file ({exc.strerror or exc})"


def read_error(exc: OSError) -> DecodeError:
    return _read_error(exc)


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """A DecodeError unless ``path`` is a non-empty regular file (a pipe or device would block)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _read_error(exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError("is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
        raise DecodeError("not a regular file")
    if st.st_size == 0:
        raise DecodeError("empty file")


@contextmanager
def open_image(path: str | os.PathLike[str]) -> Iterator[tuple[Image.Image, str]]:
    """Open lazily (header only) and check the claimed size; yields the image and our format name."""
    register_plugins()
    p = os.fspath(path)
    check_regular_file(p)
    try:
        f: IO[bytes] = open(p, "rb")  # noqa: SIM115 - closed by the with-block below
    except OSError as exc:
        raise _read_error(exc) from None
    with f:
        im = _identify(f)
        with im:
            fmt = _format_of(im)
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise DecodeError(_too_large(width, height))
            yield im, fmt


def _identify(f: IO[bytes]) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Images between our limit and Pillow's are refused by us right after, with our own reason.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(f, formats=_open_formats)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{_megapixels(int(found.group(1)))} MP" if found else "too many pixels"
        raise DecodeError(f"image too large: {pixels} (limit {_megapixels(MAX_PIXELS)} MP)") from None
    except MemoryError:
        raise DecodeError("not enough memory to read the image") from None
    except OSError as exc:
        if exc.errno is not None:
            raise _read_error(exc) from None
        head = _head(f)
    except Exception:  # any parser failure means the header is unusable
        head = _head(f)
    raise DecodeError(_unidentified_reason(head))


def _head(f: IO[bytes]) -> bytes:
    try:
        f.seek(0)
        return f.read(1024)
    except OSError:
        return b""


def _sniff(head: bytes) -> str | None:
    """Our format name from magic bytes, used only to word failures."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in _HEIC_BRANDS:
            return "heic"
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\r\n\f"))
    return bad <= max(1, len(text) // 100)


def _unidentified_reason(head: bytes) -> str:
    fmt = _sniff(head)
    if fmt in ("heic", "heif", "avif") and not _codec_available(fmt):
        return f"{DISPLAY_NAMES[fmt]} support is not installed"
    if fmt is not None:
        return f"damaged {DISPLAY_NAMES[fmt]} (header unreadable)"
    if head.startswith(b"%PDF"):
        return "not an image (PDF document?)"
    if _looks_like_text(head):
        return "not an image (text file?)"
    return "not an image (unknown format)"


def _codec_available(fmt: str) -> bool:
    return any(fid in Image.OPEN for fid in (["AVIF"] if fmt == "avif" else ["HEIF"]))


def _format_of(im: Image.Image) -> str:
    if im.format == "HEIF":
        mime = (getattr(im, "custom_mimetype", None) or "").lower()
        return "avif" if "avif" in mime else "heif" if "heif" in mime else "heic"
    return _FORMAT_OF_PIL.get(im.format or "", (im.format or "unknown").lower())


def load_pixels(im: Image.Image, fmt: str) -> None:
    """Decode the pixels, turning every decoder failure into a ``DecodeError``."""
    # Truncated files are refused rather than decoded with a grey lower part: the embedding of half a
    # photo is misleading, and a file that is still being copied will be complete at the next scan.
    try:
        im.load()
    except MemoryError:
        raise DecodeError("not enough memory to decode the image") from None
    except OSError as exc:
        if exc.errno is not None:
            raise _read_error(exc) from None
        raise DecodeError(_damage_reason(exc, fmt)) from None
    except Exception as exc:
        raise DecodeError(_damage_reason(exc, fmt)) from None


def _damage_reason(exc: Exception, fmt: str) -> str:
    name = DISPLAY_NAMES.get(fmt, fmt.upper())
    text = str(exc).strip().rstrip(".")
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return f"truncated {name}"
    return f"damaged {name} ({text[:80]})" if text else f"damaged {name}"

