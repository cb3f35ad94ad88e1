"""Places from GPS: offline names for known coordinates, stored per photo and found by city and country."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoclip.enrich import places
from photoclip.enrich.stage import Enricher, photo_place
from photoclip.ingest.pipeline import Indexer
from photoclip.ingest.scanner import scan
from photoclip.search.hybrid import HybridSearcher
from photoclip.search.keywords import KeywordIndex, plain_terms
from photoclip.store.catalog import Catalog
from tests.corpus import make_image

pytestmark = pytest.mark.skipif(not places.available(), reason=places.unavailable_reason() or "")

CITIES = {
    "lisbon.jpg": ((38.7223, -9.1393), "Lisbon", "Portugal", "PT"),
    "tokyo.jpg": ((35.6762, 139.6503), "Tokyo", "Japan", "JP"),
    "nairobi.jpg": ((-1.2921, 36.8219), "Nairobi", "Kenya", "KE"),
    "sydney.jpg": ((-33.8688, 151.2093), "Sydney", "Australia", "AU"),
}


@pytest.fixture(scope="module")
def geocoder() -> places.Geocoder:
    return places.Geocoder()


def test_known_coordinates_get_their_city_and_country(geocoder: places.Geocoder) -> None:
    found = geocoder.lookup([pos for pos, *_ in CITIES.values()])
    for place, (_pos, city, country, code) in zip(found, CITIES.values(), strict=True):
        assert place is not None
        assert place.country == country and place.country_code == code
        assert city in place.names  # as the place itself or as its region ("Intendente", region Lisbon)
        assert country in place.label


def test_coordinates_that_are_not_a_position_give_no_place(geocoder: places.Geocoder) -> None:
    assert geocoder.lookup([(0.0, 0.0), (91.0, 10.0), (10.0, float("nan")), (-33.87, 151.21)])[:3] == [None] * 3
    assert geocoder.place(-33.87, 151.21) is not None


def test_names_are_distinct_and_most_specific_first() -> None:
    place = places.Place(1.0, 2.0, "Nairobi", "Nairobi County", None, "Kenya", "KE")
    assert place.names == ("Nairobi", "Nairobi County", "Kenya", "KE")
    assert places.Place(1.0, 2.0, "Porto", "Porto", "Porto", "Portugal", "PT").label == "Porto, Portugal"


def _library(tmp_path: Path) -> tuple[Catalog, Path]:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, (pos, *_rest) in CITIES.items():
        make_image(folder / name, "jpeg", (64, 48), (120, 130, 140), gps=pos)
    make_image(folder / "no gps.jpg", "jpeg", (64, 48), (10, 130, 140))
    return index(Catalog(tmp_path / "lib" / "catalog.db"), folder), folder


def index(catalog: Catalog, folder: Path | None = None) -> Catalog:
    """Scan and read every photo as the indexer does (no model needed for places)."""
    if folder is not None:
        catalog.add_folder(folder)
    scan(catalog)
    Indexer(catalog, None).run()
    return catalog


def test_photos_are_found_by_city_and_country(tmp_path: Path, geocoder: places.Geocoder) -> None:
    catalog, _folder = _library(tmp_path)
    report = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    assert (report.places, report.no_gps) == (4, 1)
    index = KeywordIndex(catalog)
    for name, (_pos, city, country, _code) in CITIES.items():
        for word in (city, country, city.lower()):
            hits = index.search(plain_terms(word))
            assert [catalog.photo(h.id).name for h in hits] == [name], word
        [hit] = index.search(plain_terms(country))
        assert any(str(m) == f"place: {country}" for m in hit.matches)
    words_only = HybridSearcher(catalog, None)  # the search box, before any model is installed
    assert [Path(h.path).name for h in words_only.search("Lisbon").hits] == ["lisbon.jpg"]
    assert [Path(h.path).name for h in words_only.search('place:"Japan"').hits] == ["tokyo.jpg"]
    lisbon = catalog.photo_by_path(str((tmp_path / "photos" / "lisbon.jpg").resolve()))
    assert lisbon is not None
    stored = photo_place(catalog, lisbon.id)
    assert stored is not None and stored.country_code == "PT" and abs(stored.lat - 38.7223) < 1e-3
    catalog.close()


def test_photos_without_gps_are_unaffected_and_not_looked_at_twice(tmp_path: Path,
                                                                   geocoder: places.Geocoder) -> None:
    catalog, folder = _library(tmp_path)
    Enricher(catalog, ocr=None, geocoder=geocoder).run()
    plain = catalog.photo_by_path(str((folder / "no gps.jpg").resolve()))
    assert plain is not None and photo_place(catalog, plain.id) is None
    assert KeywordIndex(catalog).document(plain.id)["place"] == ""
    again = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    assert (again.places, again.no_gps) == (0, 0)
    catalog.close()


def test_places_come_from_the_positions_read_while_indexing(tmp_path: Path, geocoder: places.Geocoder,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexer already read each photo's position: finding places opens no file again, and a photo
    whose content changed since is read once more rather than given its old position."""
    from photoclip import imaging

    catalog, folder = _library(tmp_path)
    opened: list[str] = []
    real_read_meta = imaging.read_meta
    monkeypatch.setattr(imaging, "read_meta", lambda path, *a, **k: opened.append(Path(path).name)
                        or real_read_meta(path, *a, **k))
    report = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    assert (report.places, report.no_gps, opened) == (4, 1, [])
    # Content changed behind the catalog's back (as a scan records it before the indexer reads it again):
    # the kept position belongs to the old content and is not used.
    tokyo = catalog.photo_by_path(str((folder / "tokyo.jpg").resolve()))
    assert tokyo is not None
    make_image(folder / "tokyo.jpg", "jpeg", (64, 48), (120, 130, 140), gps=(41.1579, -8.6291))  # Porto now
    with catalog.write() as c:
        c.execute("UPDATE photos SET content_hash='changed' WHERE id=?", (tokyo.id,))
    again = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    place = photo_place(catalog, tokyo.id)
    assert again.places == 1 and opened == ["tokyo.jpg"]
    assert place is not None and place.country_code == "PT"
    catalog.close()


def test_a_changed_photo_gets_its_new_place(tmp_path: Path, geocoder: places.Geocoder) -> None:
    catalog, folder = _library(tmp_path)
    Enricher(catalog, ocr=None, geocoder=geocoder).run()
    make_image(folder / "no gps.jpg", "jpeg", (64, 48), (10, 130, 140), gps=(41.1579, -8.6291))  # Porto
    index(catalog)
    report = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    assert report.places == 1
    hits = KeywordIndex(catalog).search(plain_terms("Porto"))
    assert [catalog.photo(h.id).name for h in hits] == ["no gps.jpg"]
    catalog.close()
