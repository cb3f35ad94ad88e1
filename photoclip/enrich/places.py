"""Place names for GPS coordinates, offline, from the GeoNames extract that ships inside ``reverse-geocode``.

The package holds every GeoNames place of 1,000 people or more (about 155,000) with its first- and
second-level region and country; it answers with the nearest one. That nearest place is often a
district ("Intendente" in Lisbon, "Eifuku" in Tokyo), so the region and county are kept as well: a
search for "Lisbon" or "Tokyo" finds the photo through them. The data loads on first use (about 2 s
and 150 MB), so lookups are batched and made in the background enrichment stage only.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from photoclip.errors import ModelError

PACKAGE = "reverse-geocode"
INSTALL_HINT = "install it to name the places photos were taken: pip install reverse-geocode"


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    city: str | None
    region: str | None
    county: str | None
    country: str | None
    country_code: str | None

    @property
    def names(self) -> tuple[str, ...]:
        """The distinct names a person may search this place by, most specific first."""
        seen: dict[str, None] = {}
        for name in (self.city, self.county, self.region, self.country, self.country_code):
            if name and name.casefold() not in {s.casefold() for s in seen}:
                seen[name] = None
        return tuple(seen)

    @property
    def label(self) -> str:
        """A short display name: "Intendente, Lisbon, Portugal"."""
        parts: list[str] = []
        for name in (self.city, self.region, self.country):
            if name and all(name.casefold() != p.casefold() for p in parts):
                parts.append(name)
        return ", ".join(parts)


@functools.cache
def _data_error() -> str | None:
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or spec.origin is None:
        return f"place names are not available; {INSTALL_HINT}"
    # Without its shipped data file the package would download GeoNames from the network: never here.
    if not (Path(spec.origin).parent / "geocode.gz").is_file():
        return f"the place data of {PACKAGE} is missing; reinstall it: pip install --force-reinstall {PACKAGE}"
    return None


def available() -> bool:
    return _data_error() is None


def unavailable_reason() -> str | None:
    return _data_error()


def valid_coordinates(lat: float, lon: float) -> bool:
    return (math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0
            and not (lat == 0.0 and lon == 0.0))


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


class Geocoder:
    """Turns coordinates into places; the GeoNames data loads on the first lookup, once per process."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise ModelError(reason)
        self._lock = threading.Lock()

    def lookup(self, coordinates: Sequence[tuple[float, float]]) -> list[Place | None]:
        """One place per (lat, lon); None for coordinates that are not on Earth (or the 0, 0 of no fix)."""
        wanted = [i for i, (lat, lon) in enumerate(coordinates) if valid_coordinates(lat, lon)]
        out: list[Place | None] = [None] * len(coordinates)
        if not wanted:
            return out
        import reverse_geocode

        with self._lock:
            try:
                found = reverse_geocode.search([coordinates[i] for i in wanted])
            except Exception as exc:
                raise ModelError(f"place lookup failed: {type(exc).__name__}: {exc}") from exc
        for i, row in zip(wanted, found, strict=True):
            lat, lon = coordinates[i]
            out[i] = Place(float(lat), float(lon), _clean(row.get("city")), _clean(row.get("state")),
                           _clean(row.get("county")), _clean(row.get("country")),
                           _clean(row.get("country_code")))
        return out

    def place(self, lat: float, lon: float) -> Place | None:
        return self.lookup([(lat, lon)])[0]
