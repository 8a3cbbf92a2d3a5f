"""Plain text, Markdown and HTML: translate the text, keep every line break, mark and tag."""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

from wanxiang.engines.translation.segments import Translate, translate_segments
from wanxiang.engines.words.textcodec import decode_text
from wanxiang.model.errors import JobFailure


def translate_txt(data: bytes, translate: Translate) -> bytes:
    """Line by line: the line structure of the file is the document's structure."""
    lines = decode_text(data).split("\n")
    return "\n".join(translate_segments(lines, translate)).encode()


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_BLOCK_PREFIX = re.compile(r"^(\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)?)(.*)$")
# Pieces of a line that are syntax, not prose: inline code, link/image targets, HTML tags,
# autolinks, table pipes and emphasis markers.
_INLINE_SYNTAX = re.compile(r"(`+[^`]*`+|\]\([^)]*\)|<[^>]+>|\||\*\*|__|(?<!\w)[*_](?!\s)|(?<!\s)[*_](?!\w)|!?\[)")


def _markdown_pieces(lines: list[str]) -> list[tuple[int, list[str], list[bool]]]:
    """For each prose line: its index, its pieces, and which pieces are text to translate."""
    out: list[tuple[int, list[str], list[bool]]] = []
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or line.startswith(("    ", "\t")) or not line.strip():
            continue
        match = _BLOCK_PREFIX.match(line)
        prefix, body = (match[1], match[2]) if match else ("", line)
        parts = _INLINE_SYNTAX.split(body)
        pieces = [prefix, *parts]
        is_text = [False] + [i % 2 == 0 for i in range(len(parts))]
        out.append((index, pieces, is_text))
    return out


def translate_markdown(data: bytes, translate: Translate) -> bytes:
    """Prose between the syntax; fenced and indented code blocks and inline code are not touched."""
    lines = decode_text(data).split("\n")
    layout = _markdown_pieces(lines)
    segments = [p for _, pieces, flags in layout for p, f in zip(pieces, flags, strict=True) if f]
    translated = iter(translate_segments(segments, translate))
    for index, pieces, flags in layout:
        lines[index] = "".join(next(translated) if f else p for p, f in zip(pieces, flags, strict=True))
    return "\n".join(lines).encode()


_SKIP_TAGS = frozenset({"script", "style", "code", "pre", "kbd", "samp", "var", "template", "textarea"})


def _html_parser() -> lxml.html.HTMLParser:
    # No network, no entity expansion, no huge trees: uploads are untrusted.
    return lxml.html.HTMLParser(no_network=True, remove_comments=False, huge_tree=False, recover=True)


def _text_slots(root: lxml.etree._Element) -> list[tuple[lxml.etree._Element, str]]:
    """(element, "text"|"tail") for every text node outside code, scripts and styles."""
    slots: list[tuple[lxml.etree._Element, str]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments and processing instructions
            if element.tail:
                slots.append((element, "tail"))
            continue
        skipped = any(a.tag in _SKIP_TAGS for a in element.iterancestors()) or element.tag in _SKIP_TAGS
        if element.text and not skipped:
            slots.append((element, "text"))
        if element.tail and not any(a.tag in _SKIP_TAGS for a in element.iterancestors()):
            slots.append((element, "tail"))
    return slots


def translate_html(data: bytes, translate: Translate) -> bytes:
    """Text nodes only: tags, attributes, scripts and code keep their bytes' meaning."""
    source = decode_text(data)
    is_document = bool(re.search(r"<html[\s>]", source[:2048], re.IGNORECASE))
    try:
        if is_document:
            root = lxml.html.document_fromstring(source, parser=_html_parser())
        else:
            root = lxml.html.fragment_fromstring(source, create_parent="div", parser=_html_parser())
    except (lxml.etree.ParserError, ValueError) as exc:
        raise JobFailure("InvalidInput", f"The HTML could not be parsed: {exc}") from exc
    slots = _text_slots(root)
    texts = [getattr(element, attr) for element, attr in slots]
    for (element, attr), new in zip(slots, translate_segments(texts, translate), strict=True):
        setattr(element, attr, new)
    if is_document:
        doctype = root.getroottree().docinfo.doctype
        body = lxml.html.tostring(root, encoding="unicode", doctype=doctype or None)
        return body.encode()
    inner = html.escape(root.text or "", quote=False) + "".join(lxml.html.tostring(c, encoding="unicode") for c in root)
    return inner.encode()
