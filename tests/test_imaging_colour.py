"""Wide-gamut photos (Display P3, Adobe RGB) are converted to sRGB; sRGB and untagged ones are untouched.

The P3 profile is written here from its published primaries, and the expected sRGB values are
computed with plain matrices, independently of the colour engine the app uses.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from photoclip import imaging

GAMMA = 2.2
D50 = (0.9642, 1.0, 0.8249)
# Display P3 colorants adapted to D50 (Bradford), as Apple's own profile stores them.
P3_COLORANTS = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
# The same for sRGB, to go from D50 XYZ back to linear sRGB.
SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + b"\0" * 8 + b"\0" * 3 + b"\0" * 67)


def matrix_profile(description: str, colorants: tuple[tuple[float, float, float], ...], gamma: float) -> bytes:
    """A minimal ICC v2 display profile: three colorants, one gamma curve, D50 white."""
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [(b"desc", _desc_tag(description)), (b"wtpt", _xyz_tag(D50)),
            (b"rXYZ", _xyz_tag(colorants[0])), (b"gXYZ", _xyz_tag(colorants[1])), (b"bXYZ", _xyz_tag(colorants[2])),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
            (b"cprt", b"text" + b"\0" * 4 + b"no copyright, test data\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB " + b"XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + b"".join(_s15(v) for v in D50)
              + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


P3 = matrix_profile("Display P3 (test)", P3_COLORANTS, GAMMA)


def expected_srgb(p3_rgb: tuple[int, int, int]) -> np.ndarray:
    """P3 pixel -> linear -> D50 XYZ -> linear sRGB -> sRGB encoded, clipped to the gamut."""
    linear = (np.asarray(p3_rgb, dtype=np.float64) / 255.0) ** GAMMA
    xyz = np.asarray(P3_COLORANTS).T @ linear
    srgb_linear = np.clip(np.linalg.solve(np.asarray(SRGB_COLORANTS).T, xyz), 0.0, 1.0)
    encoded = np.where(srgb_linear <= 0.0031308, 12.92 * srgb_linear, 1.055 * srgb_linear ** (1 / 2.4) - 0.055)
    return encoded * 255.0


def save(path: Path, colour: tuple[int, int, int], icc: bytes | None, fmt: str = "PNG",
         size: tuple[int, int] = (64, 48)) -> Path:
    im = Image.new("RGB", size, colour)
    kwargs = {"icc_profile": icc} if icc else {}
    im.save(path, fmt, **kwargs)
    return path


def test_the_test_profile_is_a_valid_rgb_profile() -> None:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(P3))
    assert profile.profile.xcolor_space.strip() == "RGB"
    assert "Display P3" in profile.profile.profile_description


@pytest.mark.parametrize("colour", [(200, 60, 60), (60, 180, 90), (90, 110, 210), (128, 128, 128)])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_display_p3_photos_are_converted_to_srgb(tmp_path: Path, colour: tuple[int, int, int], fmt: str) -> None:
    path = save(tmp_path / f"p3.{fmt.lower()}", colour, P3, fmt)
    expected = expected_srgb(colour)
    for image in (imaging.load_image(path)[0], imaging.load_image(path, min_side=16)[0],
                  imaging.thumbnail(path, 32)):
        got = np.asarray(image, dtype=np.float64)[image.height // 2, image.width // 2]
        tolerance = 4 if fmt == "PNG" else 7  # JPEG adds its own rounding of the flat colour
        assert np.abs(got - expected).max() <= tolerance, (colour, got, expected)


def test_saturated_p3_colours_come_out_more_saturated_in_srgb(tmp_path: Path) -> None:
    """The visible effect: untreated, a P3 red would be shown (and embedded) as a duller red."""
    path = save(tmp_path / "red.png", (200, 60, 60), P3)
    r, g, b = np.asarray(imaging.load_image(path)[0])[0, 0].tolist()
    assert r > 200 and g < 60 and b < 60


def test_untagged_and_srgb_photos_are_left_exactly_as_they_are(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, icc in (("plain.png", None), ("srgb.png", srgb)):
        path = save(tmp_path / name, (200, 60, 60), icc)
        assert np.asarray(imaging.load_image(path)[0])[0, 0].tolist() == [200, 60, 60]


@pytest.mark.parametrize("icc", [b"not a profile at all", P3[:200], b"\0" * 600])
def test_a_broken_profile_leaves_the_pixels_as_stored(tmp_path: Path, icc: bytes) -> None:
    path = save(tmp_path / "broken.png", (200, 60, 60), icc)
    image, _meta = imaging.load_image(path)
    assert np.asarray(image)[0, 0].tolist() == [200, 60, 60]


def test_orientation_still_applies_after_conversion(tmp_path: Path) -> None:
    """A tall P3 JPEG with EXIF orientation 6 comes out upright and converted."""
    im = Image.new("RGB", (80, 40), (200, 60, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    im.save(path, "JPEG", icc_profile=P3, exif=exif, quality=95)
    image, _meta = imaging.load_image(path)
    assert image.size == (40, 80)
    assert np.asarray(image)[40, 20, 0] > 200


# Published D65 matrices (linear RGB -> XYZ) of Display P3 and sRGB, for photos that describe their
# colour with an nclx box (H.273 code points) instead of an ICC profile.
P3_D65_TO_XYZ = ((0.4866, 0.2657, 0.1982), (0.2290, 0.6917, 0.0793), (0.0000, 0.0451, 1.0439))
SRGB_D65_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))


def srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def expected_from_p3_nclx(rgb: tuple[int, int, int]) -> np.ndarray:
    """Display P3 with the sRGB curve (what phones write as nclx 12/13) -> sRGB, clipped."""
    xyz = np.asarray(P3_D65_TO_XYZ) @ srgb_decode(np.asarray(rgb, dtype=np.float64) / 255.0)
    linear = np.clip(np.linalg.solve(np.asarray(SRGB_D65_TO_XYZ), xyz), 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055) * 255.0


def save_heic_nclx(path: Path, colour: tuple[int, int, int], primaries: int, transfer: int,
                   thumbnails: tuple[int, ...] = ()) -> Path:
    """A flat-colour HEIC, lossless 4:4:4 so the stored pixels are the given ones."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.new("RGB", (256, 192), colour).save(
        path, "HEIF", quality=-1, chroma=444, save_nclx_profile=True, color_primaries=primaries,
        transfer_characteristics=transfer, matrix_coefficients=0, full_range_flag=1, thumbnails=list(thumbnails))
    return path


@pytest.mark.parametrize("colour", [(200, 60, 60), (60, 180, 90), (90, 110, 210), (128, 128, 128)])
def test_heic_with_display_p3_in_an_nclx_box_is_converted_to_srgb(tmp_path: Path, colour) -> None:
    path = save_heic_nclx(tmp_path / "p3.heic", colour, primaries=12, transfer=13, thumbnails=(64,))
    expected = expected_from_p3_nclx(colour)
    for image in (imaging.load_image(path)[0], imaging.load_image(path, min_side=16)[0],
                  imaging.thumbnail(path, 32)):
        got = np.asarray(image, dtype=np.float64)[image.height // 2, image.width // 2]
        assert np.abs(got - expected).max() <= 2, (colour, got, expected)


@pytest.mark.parametrize(("primaries", "transfer"), [(1, 13), (2, 2), (12, 16), (9, 18)])
def test_heic_nclx_in_srgb_or_hdr_is_left_as_stored(tmp_path: Path, primaries: int, transfer: int) -> None:
    """sRGB primaries need nothing; PQ/HLG (HDR) would need tone mapping, not a matrix."""
    path = save_heic_nclx(tmp_path / "plain.heic", (200, 60, 60), primaries, transfer)
    assert np.asarray(imaging.load_image(path)[0])[0, 0].tolist() == [200, 60, 60]
