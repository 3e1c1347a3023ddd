"""`format=xml`: the same answers as JSON, as simple well-formed XML.

Oracle documents XML output but not its element names; ours (docs/api-behaviour.md): an object is
an element per key; a list repeats one element per item, named for the list (`results` holds
one element per record named after the entity, `parameters` holds `parameter`, anything else
`item`); null is an empty element with `null="true"`; booleans are `true`/`false`. A key that is
not an XML name becomes `<entry key="...">`.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

XML_TYPE = "application/xml; charset=utf-8"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _element(tag: str, value: Any, item_tags: dict[str, str], out: list[str]) -> None:
    if _NAME.match(tag) and not tag.lower().startswith("xml"):
        open_tag, close_tag = tag, tag
    else:
        open_tag, close_tag = f"entry key={quoteattr(tag)}", "entry"
    if value is None:
        out.append(f'<{open_tag} null="true"/>')
        return
    out.append(f"<{open_tag}>")
    if isinstance(value, dict):
        for key, child in value.items():
            _element(str(key), child, item_tags, out)
    elif isinstance(value, list):
        item = item_tags.get(tag, "item")
        for child in value:
            _element(item, child, item_tags, out)
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    else:
        out.append(escape(str(value)))
    out.append(f"</{close_tag}>")


def to_xml(root: str, value: Any, item_tags: dict[str, str] | None = None) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _element(root, value, {"parameters": "parameter", **(item_tags or {})}, out)
    return "".join(out).encode()
