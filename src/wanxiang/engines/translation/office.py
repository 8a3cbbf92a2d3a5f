"""docx, pptx and xlsx: the same file back, with only the text of runs and string cells replaced.

Word and PowerPoint split text into runs that often share one formatting (spell-check marks, edit
history). Consecutive runs with identical formatting are translated as one segment, the result
goes into the first run and the others are emptied: the run count and every run's formatting
stay, and the engine sees whole phrases rather than word fragments. Runs with different
formatting (a bold word) are translated on their own, so the bold stays on that word's
translation; word order across differently formatted runs cannot move.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import docx
import openpyxl
import pptx
from lxml import etree

from wanxiang.engines.translation.segments import Translate, translate_segments
from wanxiang.model.errors import JobFailure

Run = Any  # python-docx / python-pptx run: has .text and ._r


def _format_key(run: Run) -> bytes:
    props = run._r.find("{*}rPr")
    return b"" if props is None else etree.tostring(props)


def _run_groups(runs: list[Run]) -> list[list[Run]]:
    groups: list[list[Run]] = []
    for run in runs:
        if groups and _format_key(groups[-1][-1]) == _format_key(run):
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def _translate_run_groups(groups: list[list[Run]], translate: Translate) -> None:
    texts = ["".join(r.text for r in group) for group in groups]
    for group, new in zip(groups, translate_segments(texts, translate), strict=True):
        if new == "".join(r.text for r in group):
            continue
        group[0].text = new
        for run in group[1:]:
            run.text = ""


def _docx_paragraphs(document: Any) -> Iterator[Any]:
    def from_container(container: Any) -> Iterator[Any]:
        yield from container.paragraphs
        for table in container.tables:
            for row in table.rows:
                for cell in row.cells:
                    yield from from_container(cell)

    yield from from_container(document)
    for section in document.sections:
        for part in (section.header, section.footer):
            if not part.is_linked_to_previous:
                yield from from_container(part)


def translate_docx(data: bytes, translate: Translate) -> bytes:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a broken package
        raise JobFailure("InvalidInput", f"The input is not a readable docx file: {exc}") from exc
    seen: set[int] = set()
    groups: list[list[Run]] = []
    for paragraph in _docx_paragraphs(document):
        if id(paragraph._p) in seen:  # merged table cells repeat the same paragraphs
            continue
        seen.add(id(paragraph._p))
        groups.extend(_run_groups(list(paragraph.runs)))
    _translate_run_groups(groups, translate)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pptx_frames(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if shape.shape_type is not None and hasattr(shape, "shapes"):  # group shape
            yield from _pptx_frames(shape.shapes)
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    yield cell.text_frame


def translate_pptx(data: bytes, translate: Translate) -> bytes:
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:
        raise JobFailure("InvalidInput", f"The input is not a readable pptx file: {exc}") from exc
    groups: list[list[Run]] = []
    for slide in presentation.slides:
        frames = list(_pptx_frames(slide.shapes))
        if slide.has_notes_slide:
            frames.append(slide.notes_slide.notes_text_frame)
        for frame in frames:
            if frame is None:
                continue
            for paragraph in frame.paragraphs:
                groups.extend(_run_groups(list(paragraph.runs)))
    _translate_run_groups(groups, translate)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def translate_xlsx(data: bytes, translate: Translate) -> bytes:
    """String cells only: numbers, dates and formulas stay as they are."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data))
    except Exception as exc:
        raise JobFailure("InvalidInput", f"The input is not a readable xlsx file: {exc}") from exc
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and not cell.value.startswith("=")
    ]
    for cell, new in zip(cells, translate_segments([c.value for c in cells], translate), strict=True):
        cell.value = new
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
