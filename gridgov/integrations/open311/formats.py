"""GeoReport v2 wire formats: XML (required; schemaless, no namespace, UTF-8 declaration) and
JSON (the spec's "Spark Convention" mapping of the same tree), the error list, and dates.

Lists are written as a plural wrapper with one singular child per item (services → service,
service_requests → request …), exactly the element names the spec shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")

# Wrapper element → item element, for lists nested anywhere in a document.
ITEM_NAMES: dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


class Open311Error(Exception):
    """Answer with the spec's error list: errors → error(code, description)."""

    def __init__(self, status: int, description: str, *more: tuple[int, str]) -> None:
        super().__init__(description)
        self.status = status
        self.errors: list[tuple[int, str]] = [(status, description), *more]


def iso(value: dt.datetime | None) -> str | None:
    """W3C/ISO 8601 with the offset, e.g. 2026-11-23T10:00:00+08:00 (local time of the site)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# Characters XML 1.0 cannot carry at all; a pasted description may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _append(el, k, v)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(tag, "item")
        for v in value:
            _append(el, item, v)
    else:
        text = _text(value)
        if text is not None:
            el.text = text


def to_xml(root: str, content: list[Any] | dict[str, Any]) -> bytes:
    el = ET.Element(root)
    if isinstance(content, list):
        item = ITEM_NAMES[root]
        for v in content:
            _append(el, item, v)
    else:
        for k, v in content.items():
            _append(el, k, v)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, root: str, content: list[Any] | dict[str, Any], *, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(content, ensure_ascii=False).encode()
        response = HttpResponse(body, content_type=JSON_TYPE, status=status)
    else:
        response = HttpResponse(to_xml(root, content), content_type=XML_TYPE, status=status)
    # Public, read-only data: browser-based Open311 clients on other origins may read it.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    items = [{"code": code, "description": text} for code, text in error.errors]
    return respond(fmt if fmt in FORMATS else "xml", "errors", items, status=error.status)
