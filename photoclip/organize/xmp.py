"""XMP sidecars with keywords and star ratings, as digiKam and darktable read them.

Keywords go in ``dc:subject`` as an ``rdf:Bag`` (the field both programs map to tags); a rating
goes in ``xmp:Rating`` (0-5, the field both show as stars). The packet
is built with ElementTree, so names are XML-escaped; characters XML 1.0 cannot carry at all
(control characters) are dropped instead of producing a file no reader accepts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

# Code points XML 1.0 forbids: C0 controls except tab/newline/CR, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_keyword(text: str) -> str:
    return " ".join(_NOT_XML.sub("", text).split())


def sidecar_xml(keywords: Iterable[str], rating: int | None = None) -> bytes:
    """A complete XMP packet whose ``dc:subject`` holds the keywords (deduplicated, order kept),
    with ``xmp:Rating`` when a rating (0-5) is given."""
    seen: dict[str, str] = {}
    for word in keywords:
        clean = clean_keyword(word)
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    meta = ET.Element(f"{{{NS['x']}}}xmpmeta")
    rdf = ET.SubElement(meta, f"{{{NS['rdf']}}}RDF")
    attributes = {f"{{{NS['rdf']}}}about": ""}
    if rating is not None:
        if not 0 <= rating <= 5:
            raise ValueError(f"an XMP rating is 0 to 5, not {rating}")
        attributes[f"{{{NS['xmp']}}}Rating"] = str(int(rating))
    desc = ET.SubElement(rdf, f"{{{NS['rdf']}}}Description", attributes)
    subject = ET.SubElement(desc, f"{{{NS['dc']}}}subject")
    bag = ET.SubElement(subject, f"{{{NS['rdf']}}}Bag")
    for word in seen.values():
        ET.SubElement(bag, f"{{{NS['rdf']}}}li").text = word
    ET.indent(meta, space=" ")
    body = ET.tostring(meta, encoding="unicode")
    packet = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
              f"{body}\n<?xpacket end=\"w\"?>\n")
    return packet.encode("utf-8")


def read_keywords(data: bytes) -> list[str]:
    """The ``dc:subject`` keywords of an XMP packet (used to check what was written)."""
    root = ET.fromstring(data)
    return [li.text or "" for li in root.iter(f"{{{NS['rdf']}}}li")]


def read_rating(data: bytes) -> int | None:
    """The ``xmp:Rating`` of an XMP packet, if it has one."""
    root = ET.fromstring(data)
    for desc in root.iter(f"{{{NS['rdf']}}}Description"):
        value = desc.get(f"{{{NS['xmp']}}}Rating")
        if value is not None:
            return int(float(value))
    return None
