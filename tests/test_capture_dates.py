"""Capture dates: each source of the order wins over the ones after it, offsets and sub-seconds are
kept, and photos sort by the absolute moment when their offset is known."""

from __future__ import annotations

import io
import os
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from photoclip import imaging
from photoclip.imaging._dates import iso_date, parse_offset
from photoclip.ingest.pipeline import Indexer, IndexReport
from photoclip.ingest.scanner import scan
from photoclip.store.catalog import Catalog

ORIGINAL = "2019:07:14 09:15:30"
DIGITIZED = "2019:07:15 11:00:00"
MODIFIED = "2024:02:01 18:45:00"  # an edit years later: never the capture date when anything else is there
XMP_DATE = "2018-03-04T05:06:07.25+05:30"
IPTC_DAY, IPTC_TIME = b"20170809", b"101112-0400"
FILE_TIME = datetime(2022, 1, 2, 3, 4, 5).timestamp()


def exif_block(*, original: str | None = None, digitized: str | None = None, modified: str | None = None,
               offset: str | None = None, subsec: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if modified:
        exif[0x0132] = modified
    sub = exif.get_ifd(0x8769)
    if original:
        sub[0x9003] = original
    if digitized:
        sub[0x9004] = digitized
    if offset:
        sub[0x9011] = offset
    if subsec:
        sub[0x9291] = subsec
    return exif


def xmp_packet(**props: str) -> bytes:
    """A packet in the shape Lightroom writes: simple properties as attributes of rdf:Description."""
    ns = {"exif": "http://ns.adobe.com/exif/1.0/", "photoshop": "http://ns.adobe.com/photoshop/1.0/",
          "xmp": "http://ns.adobe.com/xap/1.0/", "dc": "http://purl.org/dc/elements/1.1/"}
    attrs = " ".join(f'{k.replace("_", ":", 1)}="{v}"' for k, v in props.items())
    decls = " ".join(f'xmlns:{p}="{u}"' for p, u in ns.items())
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" {decls} {attrs}/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
            ).encode()


def iptc_app13(day: bytes, time: bytes) -> bytes:
    """A JPEG APP13 segment: Photoshop 3.0 resource 0x0404 holding IIM DateCreated and TimeCreated."""
    iim = b"".join(b"\x1c\x02" + bytes([ds]) + struct.pack(">H", len(v)) + v for ds, v in ((55, day), (60, time)))
    if len(iim) % 2:
        iim += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def write_jpeg(path: Path, *, exif: Image.Exif | None = None, xmp: bytes | None = None,
               iptc: tuple[bytes, bytes] | None = None, colour: tuple[int, int, int] = (90, 120, 150)) -> Path:
    buf = io.BytesIO()
    kwargs: dict = {}
    if exif is not None:
        kwargs["exif"] = exif
    if xmp is not None:
        kwargs["xmp"] = xmp
    Image.new("RGB", (24, 16), colour).save(buf, "JPEG", **kwargs)
    data = buf.getvalue()
    if iptc is not None:
        data = data[:2] + iptc_app13(*iptc) + data[2:]
    path.write_bytes(data)
    os.utime(path, (FILE_TIME, FILE_TIME))
    return path


def mvhd_moov(moment: datetime) -> bytes:
    seconds = int((moment - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())
    mvhd_body = b"\x00\x00\x00\x00" + struct.pack(">III", seconds, seconds, 600) + b"\x00" * 84
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body
    return struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd


def everything(**skip: bool) -> dict:
    """Keyword arguments for write_jpeg carrying every source, less the ones named in ``skip``."""
    exif = exif_block(original=None if skip.get("original") else ORIGINAL,
                      digitized=None if skip.get("digitized") else DIGITIZED,
                      modified=MODIFIED, offset="+02:00", subsec="042")
    return {"exif": exif, "xmp": None if skip.get("xmp") else
            xmp_packet(exif_DateTimeOriginal=XMP_DATE, photoshop_DateCreated="2018-01-01",
                       xmp_CreateDate="2018-02-02T02:02:02"),
            "iptc": None if skip.get("iptc") else (IPTC_DAY, IPTC_TIME)}


def taken(path: Path) -> imaging.CaptureDate:
    meta = imaging.read_meta(path)
    from photoclip.ingest.pipeline import capture_date

    return capture_date(meta, os.stat(path).st_mtime, imaging.read_sidecar(path))


def test_exif_original_wins_with_its_offset_and_subseconds(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg", **everything()))
    assert (got.source, got.local, got.offset) == ("exif", datetime(2019, 7, 14, 9, 15, 30, 42000), 120)
    assert got.order_key == "2019-07-14T07:15:30.042000"  # the UTC instant


def test_xmp_outranks_iptc_digitized_and_the_modification_date(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg", **everything(original=True)))
    assert (got.source, got.local, got.offset) == ("xmp", datetime(2018, 3, 4, 5, 6, 7, 250000), 330)


def test_xmp_fields_in_their_own_order(tmp_path: Path) -> None:
    photoshop_only = xmp_packet(photoshop_DateCreated="2016-05-05T10:00:00", xmp_CreateDate="2016-06-06T10:00:00")
    got = taken(write_jpeg(tmp_path / "a.jpg", exif=exif_block(modified=MODIFIED), xmp=photoshop_only))
    assert (got.source, got.local) == ("xmp", datetime(2016, 5, 5, 10))


def test_iptc_outranks_digitized_and_modification_dates(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg", **everything(original=True, xmp=True)))
    assert (got.source, got.local, got.offset) == ("iptc", datetime(2017, 8, 9, 10, 11, 12), -240)


def test_digitized_outranks_modification_date(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg", **everything(original=True, xmp=True, iptc=True)))
    assert (got.source, got.local) == ("exif-digitized", datetime(2019, 7, 15, 11))


def test_modification_date_before_the_file_time(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg", exif=exif_block(modified=MODIFIED)))
    assert (got.source, got.local) == ("exif-modified", datetime(2024, 2, 1, 18, 45))


def test_file_time_last_with_the_local_offset(tmp_path: Path) -> None:
    got = taken(write_jpeg(tmp_path / "a.jpg"))
    assert (got.source, got.local) == ("file", datetime(2022, 1, 2, 3, 4, 5))
    assert got.offset is not None


@pytest.mark.parametrize("name", ["a.jpg.xmp", "a.xmp"])
def test_sidecar_dates_rating_and_keywords(tmp_path: Path, name: str) -> None:
    photo = write_jpeg(tmp_path / "a.jpg", **everything(original=True, xmp=True))
    (tmp_path / name).write_bytes(xmp_packet(photoshop_DateCreated="2015-04-03T02:01:00Z", xmp_Rating="4").replace(
        b"/></rdf:RDF>", b"><dc:subject><rdf:Bag><rdf:li>Harbour</rdf:li><rdf:li>Boats</rdf:li></rdf:Bag>"
        b"</dc:subject></rdf:Description></rdf:RDF>"))
    got = taken(photo)
    assert (got.source, got.local, got.offset) == ("sidecar", datetime(2015, 4, 3, 2, 1), 0)
    facts = imaging.read_sidecar(photo)
    assert (facts.rating, facts.keywords) == (4, ("Harbour", "Boats"))


def test_heif_container_date_outranks_only_exif_datetime(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    buf = io.BytesIO()
    im = Image.new("RGB", (16, 16), (10, 200, 30))
    pillow_heif.from_pillow(im).save(buf, format="HEIF", quality=30, exif=exif_block(modified=MODIFIED).tobytes())
    path = tmp_path / "a.heic"
    path.write_bytes(buf.getvalue() + mvhd_moov(datetime(2020, 12, 24, 18, 30, tzinfo=UTC)))
    got = taken(path)
    assert (got.source, got.local, got.offset) == ("container", datetime(2020, 12, 24, 18, 30), 0)


def test_malicious_xmp_is_ignored_not_expanded(tmp_path: Path) -> None:
    bomb = (b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreateDate="2010-01-01">&b;'
            b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    (tmp_path / "a.xmp").write_bytes(bomb)
    got = taken(write_jpeg(tmp_path / "a.jpg"))
    assert got.source == "file"


def test_parsers_refuse_placeholders() -> None:
    assert iso_date("0000-00-00T00:00:00", "xmp") is None
    assert iso_date("2019", "xmp") is None  # a year alone does not place a photo
    assert parse_offset("+25:00") is None
    assert parse_offset("-05:30") == -330


def test_index_stores_offset_and_sorts_by_absolute_time(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    # Tokyo at 10:00 local is 01:00 UTC, an hour before London's 02:00 at 02:00 local: by local time
    # Tokyo would come last.
    write_jpeg(folder / "tokyo.jpg", exif=exif_block(original="2023:05:01 10:00:00", offset="+09:00"))
    write_jpeg(folder / "london.jpg", exif=exif_block(original="2023:05:01 02:00:00", offset="+00:00"))
    # Two burst frames in one second, the later one written first (so it gets the lower id).
    write_jpeg(folder / "burst2.jpg", exif=exif_block(original="2023:05:01 12:00:00", subsec="80", offset="+00:00"))
    write_jpeg(folder / "burst1.jpg", exif=exif_block(original="2023:05:01 12:00:00", subsec="10", offset="+00:00"))
    from photoclip.library import Library

    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        catalog.add_folder(folder)
        scan(catalog)
        Indexer(catalog, None).run()
        tokyo = catalog.photo_by_path(str(folder / "tokyo.jpg"))
        assert tokyo is not None and (tokyo.taken_at, tokyo.taken_offset) == ("2023-05-01T10:00:00", 540)
        lib = Library(tmp_path / "lib", catalog)
        order = [Path(item.path).stem for item in lib.browse(newest_first=False)]
    assert order == ["tokyo", "london", "burst1", "burst2"]


def test_info_names_the_source(tmp_path: Path) -> None:
    from photoclip.library import Library

    photo = write_jpeg(tmp_path / "a.jpg", **everything(original=True))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        info = Library(tmp_path / "lib", catalog).file_info(photo)
    assert info.taken_text == "2018-03-04 05:06:07 +05:30 (XMP date created)"


def index_as_the_app_does(catalog: Catalog) -> IndexReport:
    """An index run through the facade, which records the keywords the pipeline reads as tags."""
    from photoclip.library import Library

    report = Library(catalog.path.parent, catalog).index(rescan=False, enrich=False).embed
    assert report is not None
    return report


def test_keywords_and_rating_are_kept_when_catalogued_and_the_sidecar_is_untouched(tmp_path: Path) -> None:
    from photoclip.organize import tagging

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = write_jpeg(folder / "a.jpg", xmp=xmp_packet(xmp_Rating="2").replace(
        b"/></rdf:RDF>", b"><dc:subject><rdf:Bag><rdf:li>Lisbon</rdf:li></rdf:Bag></dc:subject>"
        b"</rdf:Description></rdf:RDF>"))
    sidecar = folder / "a.xmp"
    sidecar.write_bytes(xmp_packet(xmp_Rating="5").replace(
        b"/></rdf:RDF>", b"><dc:subject><rdf:Bag><rdf:li>Tram</rdf:li><rdf:li>lisbon</rdf:li></rdf:Bag>"
        b"</dc:subject></rdf:Description></rdf:RDF>"))
    before = (sidecar.read_bytes(), sidecar.stat().st_mtime_ns, photo.read_bytes())
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        catalog.add_folder(folder)
        scan(catalog)
        index_as_the_app_does(catalog)
        stored = catalog.photo_by_path(str(photo))
        assert stored is not None and stored.rating == 5  # the sidecar is the later edit
        tags = tagging.photo_tags(catalog, stored.id)
    assert sorted((t.name.casefold(), t.source, t.rejected) for t in tags) == [
        ("lisbon", "manual", False), ("tram", "manual", False)]
    assert (sidecar.read_bytes(), sidecar.stat().st_mtime_ns, photo.read_bytes()) == before


def test_a_rejected_keyword_stays_rejected_when_the_photo_is_read_again(tmp_path: Path) -> None:
    from photoclip.organize import tagging

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = write_jpeg(folder / "a.jpg")
    (folder / "a.jpg.xmp").write_bytes(xmp_packet(dc_subject="Sunset"))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        catalog.add_folder(folder)
        scan(catalog)
        index_as_the_app_does(catalog)
        photo_id = catalog.photo_by_path(str(photo)).id  # type: ignore[union-attr]
        tagging.reject_tag(catalog, photo_id, "Sunset")
        write_jpeg(photo, colour=(1, 2, 3))  # new content: read again
        os.utime(photo, (FILE_TIME + 60, FILE_TIME + 60))
        scan(catalog)
        index_as_the_app_does(catalog)
        tags = [(t.name.casefold(), t.rejected) for t in tagging.photo_tags(catalog, photo_id)]
    assert tags == [("sunset", True)]


def test_photos_catalogued_before_are_dated_again_without_embedding(tmp_path: Path) -> None:
    from photoclip.library import Library
    from tests.fakes import FakeEmbedder

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = write_jpeg(folder / "a.jpg", **everything(original=True))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        lib = Library(tmp_path / "lib", catalog, engine_factory=FakeEmbedder)
        lib.settings.auto_tag = lib.settings.ocr = lib.settings.places = False
        catalog.add_folder(folder)
        lib.index(enrich=False)
        # As an older PhotoClip stored it: the edit date, called "exif", and no sort key.
        with catalog.write() as c:
            c.execute("UPDATE photos SET taken_at='2024-02-01T18:45:00', taken_at_source='exif', "
                      "taken_order=NULL, taken_offset=NULL")
        seq = catalog.model_seq(lib.model_name)
        run = lib.index(enrich=False)
        stored = catalog.photo_by_path(str(photo))
        assert run.embed is not None and run.embed.embedded == 0
        assert catalog.model_seq(lib.model_name) == seq
    assert stored is not None and (stored.taken_at, stored.taken_at_source, stored.taken_offset) == (
        "2018-03-04T05:06:07", "xmp", 330)


@pytest.mark.parametrize("fmt", ["png", "tiff", "webp", "heic"])
def test_embedded_xmp_is_read_in_every_format_that_carries_it(tmp_path: Path, fmt: str) -> None:
    from PIL import PngImagePlugin, TiffImagePlugin

    packet = xmp_packet(photoshop_DateCreated="2016-05-05T10:00:00-03:00")
    im = Image.new("RGB", (16, 16), (50, 60, 70))
    path = tmp_path / f"a.{fmt}"
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode())
        im.save(path, pnginfo=info)
    elif fmt == "tiff":
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[700], tags.tagtype[700] = packet, 1
        im.save(path, tiffinfo=tags)
    elif fmt == "webp":
        im.save(path, xmp=packet)
    else:
        pillow_heif = pytest.importorskip("pillow_heif")
        pillow_heif.from_pillow(im).save(path, format="HEIF", quality=30, xmp=packet)
    got = taken(path)
    assert (got.source, got.local, got.offset) == ("xmp", datetime(2016, 5, 5, 10), -180)


def test_a_keyword_too_long_for_a_tag_costs_only_itself(tmp_path: Path) -> None:
    from photoclip.organize import tagging

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = write_jpeg(folder / "a.jpg")
    (folder / "a.xmp").write_bytes(xmp_packet(xmp_Rating="1").replace(
        b"/></rdf:RDF>", b"><dc:subject><rdf:Bag><rdf:li>" + b"x" * 500 + b"</rdf:li><rdf:li>Pier</rdf:li>"
        b"</rdf:Bag></dc:subject></rdf:Description></rdf:RDF>"))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        catalog.add_folder(folder)
        scan(catalog)
        report = index_as_the_app_does(catalog)
        stored = catalog.photo_by_path(str(photo))
        assert stored is not None and stored.state == "ok" and report.embedded == 1
        assert [t.name.casefold() for t in tagging.photo_tags(catalog, stored.id)] == ["pier"]


def test_a_rating_in_the_file_becomes_the_photos_stars_until_the_person_changes_them(tmp_path: Path) -> None:
    from photoclip.library import Library

    folder = tmp_path / "photos"
    folder.mkdir()
    rated = write_jpeg(folder / "rated.jpg", xmp=xmp_packet(xmp_Rating="4"))
    plain = write_jpeg(folder / "plain.jpg")
    library = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"))
    try:
        library.add_folder(folder)
        scan(library.catalog)
        Indexer(library.catalog, None).run()
        rated_id = library.catalog.photo_by_path(str(rated)).id
        plain_id = library.catalog.photo_by_path(str(plain)).id
        marks = library.marks([rated_id, plain_id])
        assert marks[rated_id].rating == 4 and marks[plain_id].rating == 0
        library.set_rating([rated_id], 1)  # the person's choice now outranks the file's
        with library.catalog.write() as c:  # the same rating read again, as a re-index does
            c.execute("UPDATE photos SET rating=4 WHERE id=?", (rated_id,))
        assert library.marks([rated_id])[rated_id].rating == 1
    finally:
        library.close()


def test_search_results_sorted_by_date_follow_the_absolute_moment() -> None:
    """10:00 at +02:00 is 08:00 UTC, earlier than 09:00 at +00:00, though its local time is later."""
    from types import SimpleNamespace

    from photoclip.cli.search_cmds import sort_hits
    from photoclip.search import SearchResult
    from photoclip.store.catalog import Photo

    def hit(pid: int, taken: str, offset: int | None) -> SimpleNamespace:
        photo = Photo(pid, 1, f"/p/{pid}.jpg", 1, 1, "h", None, None, None, taken, "exif", None, None, "ok", None,
                      taken_offset=offset)
        return SimpleNamespace(id=pid, photo=photo)

    result = SearchResult([hit(1, "2024-05-01T10:00:00", 120), hit(2, "2024-05-01T09:00:00", 0)], 0, 0.0)
    sort_hits(result, "newest")
    assert [h.id for h in result.hits] == [2, 1]
    sort_hits(result, "oldest")
    assert [h.id for h in result.hits] == [1, 2]
