"""Decoding, orientation, colour modes, metadata and refusal reasons of photoclip.imaging."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, JpegImagePlugin

from photoclip import imaging
from photoclip.errors import DecodeError
from photoclip.imaging import load_image, read_meta, thumbnail
from tests.corpus import GOOD_IN_BAD_CORPUS, IS_ROOT, MARKER_BOX, NEEDS_DECODE, make_bad_corpus, make_image

FORMATS = ["jpeg", "png", "webp", "gif", "tiff", "bmp", "heic", "avif"]
LOSSY_TOLERANCE = {"jpeg": 8, "webp": 10, "heic": 14, "avif": 14, "gif": 12}
EXIF_FORMATS = ["jpeg", "png", "webp", "tiff", "heic", "avif"]


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _centre(im: Image.Image) -> tuple[int, int, int]:
    return im.getpixel((im.width // 2, im.height // 2))  # type: ignore[return-value]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_rgb_with_its_colour(tmp_path: Path, fmt: str) -> None:
    path = make_image(tmp_path / f"photo.{fmt}", fmt, (64, 48), (200, 30, 60))
    im, meta = load_image(path)
    assert im.mode == "RGB"
    assert im.size == (64, 48)
    assert (meta.format, meta.width, meta.height, meta.orientation) == (fmt, 64, 48, 1)
    assert _close(_centre(im), (200, 30, 60), LOSSY_TOLERANCE.get(fmt, 0))
    assert read_meta(path) == meta


def test_format_comes_from_content_not_extension(tmp_path: Path) -> None:
    path = make_image(tmp_path / "really_a_png.jpg", "png", (20, 10), (0, 0, 255))
    im, meta = load_image(path)
    assert meta.format == "png"
    assert _centre(im) == (0, 0, 255)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "tiff", "heic", "avif"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_gives_the_same_upright_picture(tmp_path: Path, fmt: str, orientation: int) -> None:
    w, h = 60, 40
    path = make_image(tmp_path / f"o{orientation}.{fmt}", fmt, (w, h), (255, 255, 255),
                      orientation=orientation, marker=True, quality=95)
    with Image.open(path) as raw:
        stored = raw.size
    meta = read_meta(path)
    im, loaded_meta = load_image(path)
    assert (meta.width, meta.height) == (w, h) == im.size
    assert meta.orientation == orientation == loaded_meta.orientation
    if fmt not in ("heic", "tiff"):  # libheif and Pillow's TIFF reader report the rotated size
        assert stored == ((h, w) if orientation >= 5 else (w, h))
    x1, y1 = MARKER_BOX[2] * w, MARKER_BOX[3] * h
    inside = im.getpixel((round(x1 / 2), round(y1 / 2)))
    right_of_it = im.getpixel((round((x1 + w) / 2), round(y1 / 2)))
    below_it = im.getpixel((round(x1 / 4), round((y1 + h) / 2)))
    assert max(inside) < 60
    assert min(right_of_it) > 200 and min(below_it) > 200


def test_thumbnail_is_upright_and_bounded(tmp_path: Path) -> None:
    path = make_image(tmp_path / "t.jpg", "jpeg", (600, 900), (255, 255, 255), orientation=6, marker=True)
    thumb = thumbnail(path, 128)
    assert thumb.mode == "RGB"
    assert max(thumb.size) == 128 and thumb.width < thumb.height
    assert max(thumb.getpixel((round(0.25 * thumb.width), round(0.1 * thumb.height)))) < 60
    assert min(thumb.getpixel((round(0.75 * thumb.width), round(0.1 * thumb.height)))) > 200


# ---------------------------------------------------------------------------------------------------
# Pixel modes


@pytest.mark.parametrize(
    ("fmt", "mode", "color", "expected"),
    [
        ("png", "RGBA", (255, 0, 0, 0), (255, 255, 255)),  # fully transparent shows the white behind
        ("png", "RGBA", (0, 0, 0, 128), (127, 127, 127)),
        ("png", "LA", (0, 0), (255, 255, 255)),
        ("webp", "RGBA", (0, 0, 255, 0), (255, 255, 255)),
        ("png", "L", 90, (90, 90, 90)),
        ("png", "1", 1, (255, 255, 255)),
        ("png", "P", 0, (0, 0, 0)),
        ("tiff", "CMYK", (0, 255, 255, 0), (255, 0, 0)),
        ("jpeg", "CMYK", (255, 0, 255, 0), (0, 255, 0)),
        ("png", "I;16", 40000, (156, 156, 156)),  # scaled by 1/256, not clipped to 255
        ("tiff", "I;16", 1000, (3, 3, 3)),
        ("tiff", "I", 51200, (200, 200, 200)),
        ("tiff", "RGB;16", (65535, 32768, 256), (255, 128, 1)),
        ("png", "RGB;16", (0, 65535, 12800), (0, 255, 50)),
    ],
)
def test_modes_convert_to_rgb(tmp_path: Path, fmt: str, mode: str, color: object, expected: tuple) -> None:
    path = make_image(tmp_path / f"m.{fmt}", fmt, (16, 12), color, mode=mode)
    im, _ = load_image(path)
    assert im.mode == "RGB"
    assert _close(_centre(im), expected, 6 if fmt == "jpeg" else 1), _centre(im)


def test_transparent_gif_is_white(tmp_path: Path) -> None:
    path = tmp_path / "t.gif"
    img = Image.new("P", (10, 10), 3)
    img.putpalette([0, 0, 0] * 3 + [250, 0, 0] + [0, 0, 0] * 252)
    img.save(path, transparency=3)
    im, meta = load_image(path)
    assert meta.format == "gif" and _centre(im) == (255, 255, 255)


def test_gif_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    red, blue = Image.new("RGB", (20, 20), (255, 0, 0)), Image.new("RGB", (20, 20), (0, 0, 255))
    red.save(path, save_all=True, append_images=[blue], duration=100)
    im, _ = load_image(path)
    assert _close(_centre(im), (255, 0, 0), 4)


# ---------------------------------------------------------------------------------------------------
# Reduced decodes


def test_large_jpeg_uses_draft_and_keeps_min_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_image(tmp_path / "big.jpg", "jpeg", (3000, 2000), (120, 140, 160), orientation=6)
    scales: list[int] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        result = original(self, mode, size)
        scales.append(self.decoderconfig[0] if self.decoderconfig else 1)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    im, meta = load_image(path, min_side=224)
    assert scales and scales[0] >= 2  # the decoder itself skipped most of the pixels
    assert (meta.width, meta.height) == (3000, 2000)
    assert im.width > im.height  # still upright
    assert 224 <= min(im.size) <= 2 * 224
    assert abs(im.width / im.height - 1.5) < 0.02
    assert _close(_centre(im), (120, 140, 160), 6)


def test_min_side_larger_than_photo_returns_it_whole(tmp_path: Path) -> None:
    path = make_image(tmp_path / "small.png", "png", (300, 200), (1, 2, 3))
    im, _ = load_image(path, min_side=224)
    assert im.size == (300, 200)


def test_heic_uses_embedded_thumbnail_when_big_enough(tmp_path: Path) -> None:
    path = make_image(tmp_path / "p.heic", "heic", (320, 240), (30, 160, 90), heic_thumbnails=(128,))
    small, meta = load_image(path, min_side=64)
    assert (meta.width, meta.height) == (320, 240)
    assert small.size == (128, 96)  # the embedded thumbnail, not a resized full decode
    assert _close(_centre(small), (30, 160, 90), 14)
    full, _ = load_image(path, min_side=200)
    assert full.size == (320, 240)
    assert thumbnail(path, 100).size == (100, 75)


# ---------------------------------------------------------------------------------------------------
# Metadata


@pytest.mark.parametrize("fmt", EXIF_FORMATS)
def test_exif_facts(tmp_path: Path, fmt: str) -> None:
    path = make_image(tmp_path / f"e.{fmt}", fmt, (32, 24), (9, 9, 9), exif_datetime=datetime(2019, 7, 14, 18, 5, 33),
                      make="Canon ", model="EOS R6\x00", gps=(-33.8688, 151.2093))
    meta = read_meta(path)
    assert meta.taken_at == datetime(2019, 7, 14, 18, 5, 33)
    assert (meta.camera_make, meta.camera_model) == ("Canon", "EOS R6")
    assert meta.gps is not None
    assert meta.gps[0] == pytest.approx(-33.8688, abs=1e-4)
    assert meta.gps[1] == pytest.approx(151.2093, abs=1e-4)
    assert load_image(path)[1] == meta


def test_taken_at_falls_back_to_datetime_and_ignores_placeholders(tmp_path: Path) -> None:
    fallback = make_image(tmp_path / "a.jpg", "jpeg", (8, 8), (0, 0, 0), exif_extra={0x0132: "2001:02:03 04:05:06"})
    assert read_meta(fallback).taken_at == datetime(2001, 2, 3, 4, 5, 6)
    placeholder = make_image(tmp_path / "b.jpg", "jpeg", (8, 8), (0, 0, 0), exif_datetime="0000:00:00 00:00:00")
    assert read_meta(placeholder).taken_at is None
    bare = read_meta(make_image(tmp_path / "c.png", "png", (8, 8), (0, 0, 0)))
    assert (bare.taken_at, bare.camera_make, bare.gps, bare.orientation) == (None, None, None, 1)


def test_invalid_orientation_value_is_ignored(tmp_path: Path) -> None:
    path = make_image(tmp_path / "o.jpg", "jpeg", (30, 20), (0, 0, 0), exif_extra={0x0112: 42})
    im, meta = load_image(path)
    assert meta.orientation == 1 and im.size == (30, 20)


# ---------------------------------------------------------------------------------------------------
# Refusals


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bad")
    return folder, make_bad_corpus(folder)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("reader", [read_meta, load_image, lambda p: thumbnail(p, 64)])
def test_every_bad_input_raises_decode_error_with_its_reason(
    bad_corpus: tuple[Path, dict[str, str]], reader: object
) -> None:
    folder, expected = bad_corpus
    assert {"empty.jpg", "truncated.jpg", "notes.jpg", "bomb.png"} <= expected.keys()
    for name, keyword in expected.items():
        if reader is read_meta and name in NEEDS_DECODE:
            continue
        with pytest.raises(DecodeError) as caught:
            reader(folder / name)  # type: ignore[operator]
        assert keyword in str(caught.value), (name, str(caught.value))


def test_good_files_in_the_bad_corpus_decode(bad_corpus: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_corpus
    written = [name for name in GOOD_IN_BAD_CORPUS if (folder / name).exists()]
    assert "png named.jpg" in written and "emoji 📷.png" in written
    for name in written:
        im, _ = load_image(folder / name)
        assert im.size == (40, 30)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bomb_is_refused_fast_and_named(bad_corpus: tuple[Path, dict[str, str]]) -> None:
    folder, _ = bad_corpus
    start = time.perf_counter()
    with pytest.raises(DecodeError, match=r"^image too large: 20000x20000 \(400 MP, limit 200 MP\)$"):
        load_image(folder / "bomb.png", min_side=224)
    assert time.perf_counter() - start < 0.5


@pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their permissions")
def test_unreadable_file(bad_corpus: tuple[Path, dict[str, str]]) -> None:
    with pytest.raises(DecodeError, match="permission denied"):
        read_meta(bad_corpus[0] / "locked.jpg")


@pytest.mark.parametrize(("error", "reason"), [(PermissionError, "permission denied"),
                                               (FileNotFoundError, "file vanished")])
def test_open_failures_after_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     error: type[OSError], reason: str) -> None:
    path = make_image(tmp_path / "x.jpg", "jpeg", (8, 8), (0, 0, 0))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise error(13, "refused")

    monkeypatch.setattr(imaging._files, "open", refuse, raising=False)
    with pytest.raises(DecodeError, match=reason):
        load_image(path)


def test_missing_file_vanished(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match=r"^file vanished$"):
        read_meta(tmp_path / "gone.jpg")


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "tiff", "bmp", "heic", "avif"])
def test_cut_or_corrupted_files_only_ever_raise_decode_error(tmp_path: Path, fmt: str) -> None:
    data = make_image(tmp_path / f"ok.{fmt}", fmt, (48, 32), (90, 10, 200), noise=40).read_bytes()
    damaged = [data[: len(data) * k // 10] for k in (1, 3, 5, 7, 9)]
    damaged += [data[:n] + bytes(64) + data[n + 64:] for n in (len(data) // 4, len(data) // 2)]
    refused = 0
    for i, blob in enumerate(damaged):
        path = tmp_path / f"bad{i}.{fmt}"
        path.write_bytes(blob)
        try:
            im, _ = load_image(path)
        except DecodeError as exc:
            refused += 1
            assert str(exc) and "\n" not in str(exc)
        else:
            assert im.mode == "RGB"
    assert refused >= 3  # at least the cuts inside the pixel data are noticed


def test_supported_extensions() -> None:
    assert imaging.is_supported("a/b/IMG_0001.JPG")
    assert imaging.is_supported(Path("x.heic")) and imaging.is_supported("x.avif")
    assert not imaging.is_supported("notes.txt")
    assert not imaging.is_supported("._IMG_0001.JPG")  # macOS resource fork
    assert all(ext.startswith(".") and ext == ext.lower() for ext in imaging.SUPPORTED_EXTENSIONS)
