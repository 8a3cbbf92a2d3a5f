"""Hardened XML parsing into element trees, and rendering trees back to XML.

The parser refuses DTDs, entity declarations and external references (defusedxml), caps the
body size and the nesting depth, and tolerates what the SDKs send: a missing XML declaration,
leading whitespace, any element order, no Content-Type.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from wanxiang.model.errors import CIError, malformed_xml
from wanxiang.model.tree import Tree

MAX_BODY_BYTES = 1 << 20
MAX_DEPTH = 32


def parse_request(body: bytes, *, root: str = "Request", max_bytes: int = MAX_BODY_BYTES) -> Tree:
    """Parse a request body whose root element is ``root`` into a tree of its children."""
    if len(body) > max_bytes:
        raise CIError(400, "EntityTooLarge", f"The request body exceeds {max_bytes} bytes.")
    if not body.strip():
        raise malformed_xml("The request body is empty; a <Request> document is required.")
    try:
        element = fromstring(body.strip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise malformed_xml(f"The XML may not contain a DTD or entities ({type(exc).__name__}).") from exc
    except Exception as exc:  # ParseError and friends: anything unparseable is the client's
        raise malformed_xml(f"The XML you provided was not well-formed: {exc}") from exc
    name = _local(element.tag)
    if name != root:
        raise malformed_xml(f"The root element must be <{root}>, not <{name}>.")
    tree = _to_tree(element, 0)
    return tree if isinstance(tree, dict) else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# Values CI passes through untouched: their leading and trailing spaces are the user's.
KEEP_SPACES = frozenset({"UserData"})


def _to_tree(element: Element, depth: int) -> Tree | str:
    if depth > MAX_DEPTH:
        raise malformed_xml(f"The XML nests deeper than {MAX_DEPTH} levels.")
    children = list(element)
    if not children:
        if _local(element.tag) in KEEP_SPACES:
            return element.text or ""
        return (element.text or "").strip()
    tree: Tree = {}
    for node in children:
        name = _local(node.tag)
        value = _to_tree(node, depth + 1)
        if name in tree:
            existing = tree[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                tree[name] = [existing, value]
        else:
            tree[name] = value
    return tree


def render(root: str, tree: Tree, *, declaration: bool = True) -> bytes:
    """Render a tree under ``root``; lists repeat their element, None renders empty."""
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n'] if declaration else []
    _render_node(parts, root, tree)
    return "".join(parts).encode("utf-8")


def _render_node(parts: list[str], name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _render_node(parts, name, item)
        return
    if value is None or value == "":
        parts.append(f"<{name}/>")
        return
    if isinstance(value, dict):
        parts.append(f"<{name}>")
        for key, sub in value.items():
            _render_node(parts, key, sub)
        parts.append(f"</{name}>")
        return
    if isinstance(value, bool):
        value = "true" if value else "false"
    parts.append(f"<{name}>{escape(_xml_safe(str(value)))}</{name}>")


# Characters XML 1.0 cannot carry at all (even escaped); shown as \xNN so a message stays readable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
