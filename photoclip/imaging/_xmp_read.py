"""Reading XMP packets (embedded in a photo or in a sidecar file): dates, rating and keywords.

Packets come from files we do not control, so they are parsed with defusedxml, which refuses entity
expansion and external references (a "billion laughs" packet must not take the indexer down).
Properties may be written as attributes or as elements of any ``rdf:Description``; both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from photoclip.imaging._dates import CaptureDate, iso_date

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_EXIF = "http://ns.adobe.com/exif/1.0/"
_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
_XMP = "http://ns.adobe.com/xap/1.0/"
_DC = "http://purl.org/dc/elements/1.1/"
# XMP creation dates, best first: the camera's own, then what a photo program states.
_DATE_FIELDS = ((_EXIF, "DateTimeOriginal"), (_PHOTOSHOP, "DateCreated"), (_XMP, "CreateDate"))
MAX_PACKET = 4 * 1024 * 1024  # a real packet is a few kB; a bigger one is not worth parsing
_PACKET = re.compile(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>|<rdf:RDF[\s>].*?</rdf:RDF>", re.DOTALL)


@dataclass(frozen=True)
class XmpFacts:
    dates: tuple[CaptureDate, ...] = ()  # in the order of _DATE_FIELDS
    rating: int | None = None  # xmp:Rating, -1 (rejected) to 5
    keywords: tuple[str, ...] = field(default_factory=tuple)  # dc:subject


def packet_of(data: bytes | str | None) -> bytes | None:
    """The XMP markup inside a packet or a file (the xpacket wrapper and padding left out)."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="replace")
    if not data:
        return None
    found = _PACKET.search(data[:MAX_PACKET])
    return found.group(0) if found else None


def read_xmp(data: bytes | str | None, source: str = "xmp") -> XmpFacts:
    """Dates, rating and keywords of an XMP packet; a damaged packet gives nothing, never an error."""
    packet = packet_of(data)
    if packet is None:
        return XmpFacts()
    try:
        from defusedxml.ElementTree import fromstring

        root = fromstring(packet)
    except Exception:  # malformed XML, a forbidden entity, or a packet in a broken encoding
        return XmpFacts()
    descriptions = list(root.iter(f"{{{RDF}}}Description"))
    dates = []
    for ns, name in _DATE_FIELDS:
        found = iso_date(_value(descriptions, ns, name), source)
        if found is not None:
            dates.append(found)
    return XmpFacts(tuple(dates), _rating(_value(descriptions, _XMP, "Rating")),
                    tuple(_bag(descriptions, _DC, "subject")))


def _value(descriptions: list[Element], ns: str, name: str) -> str | None:
    key = f"{{{ns}}}{name}"
    for desc in descriptions:
        if key in desc.attrib:
            return desc.attrib[key]
        child = desc.find(key)
        if child is not None:
            text = (child.text or "").strip()
            if not text:  # a value wrapped in an rdf:Alt or rdf:Seq
                li = child.find(f".//{{{RDF}}}li")
                text = (li.text or "").strip() if li is not None else ""
            if text:
                return text
    return None


def _bag(descriptions: list[Element], ns: str, name: str) -> list[str]:
    key = f"{{{ns}}}{name}"
    words: dict[str, str] = {}
    for desc in descriptions:
        for child in desc.findall(key):
            items = [li.text for li in child.iter(f"{{{RDF}}}li")] or [child.text]
            for text in items:
                word = " ".join((text or "").split())
                if word and word.casefold() not in words:
                    words[word.casefold()] = word
        if key in desc.attrib:  # a single keyword written as an attribute
            for word in desc.attrib[key].split(","):
                word = " ".join(word.split())
                if word and word.casefold() not in words:
                    words[word.casefold()] = word
    return list(words.values())


def _rating(text: str | None) -> int | None:
    try:
        value = round(float(text or ""))
    except ValueError:
        return None
    return value if -1 <= value <= 5 else None
