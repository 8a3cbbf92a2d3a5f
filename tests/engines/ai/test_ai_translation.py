from __future__ import annotations

import io

import docx
import openpyxl
import pptx
import pytest
from docx.shared import Pt

from conftest import MakeJob, tool_missing
from wanxiang.engines.translation.engine import TranslationEngine, validate_translation
from wanxiang.model.errors import CIError, JobFailure
from wanxiang.model.tree import Tree

needs_apertium = pytest.mark.skipif(
    tool_missing("apertium"),
    reason="Apertium is not installed: run `make system-deps` (apt-get install -y apertium apertium-eng-spa)",
)


def translate(make_job: MakeJob, name: str, body: bytes, kind: str, target: str = "es") -> tuple[bytes, Tree]:
    operation = {
        "Translation": {"Lang": target, "Type": kind},
        "Output": {"Region": "ap-guangzhou", "Bucket": "b-1250000000", "Object": f"out/{name}"},
    }
    job, job_io = make_job(name, body, {"Lang": "en", "Type": kind}, operation)
    result: Tree = TranslationEngine().run(job, job_io)
    return job_io.written[f"out/{name}"], result


@needs_apertium
def test_txt_keeps_its_lines_and_says_casa_for_house(make_job: MakeJob) -> None:
    body = "The house is big.\n\nI have a red car.\n2024\n"
    out, result = translate(make_job, "a.txt", body.encode(), "txt")
    lines = out.decode().split("\n")
    assert len(lines) == 5
    assert "casa" in lines[0].lower() and lines[1] == "" and "coche" in lines[2] and lines[3] == "2024"
    assert "casa" in result["AITranslateResult"]["Result"]


@needs_apertium
def test_docx_keeps_paragraphs_runs_bold_and_tables(make_job: MakeJob) -> None:
    document = docx.Document()
    document.add_heading("The big house", level=1)
    paragraph = document.add_paragraph("I see the ")
    paragraph.add_run("red").bold = True
    paragraph.add_run(" car in the street.")
    paragraph.runs[0].font.size = Pt(14)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "The dog"
    table.cell(0, 1).text = "42"
    buffer = io.BytesIO()
    document.save(buffer)
    out, _ = translate(make_job, "a.docx", buffer.getvalue(), "docx")
    translated = docx.Document(io.BytesIO(out))
    assert len(translated.paragraphs) == len(document.paragraphs)
    assert [len(p.runs) for p in translated.paragraphs] == [len(p.runs) for p in document.paragraphs]
    runs = translated.paragraphs[1].runs
    assert [r.bold for r in runs] == [None, True, None]
    assert runs[0].font.size == Pt(14)
    assert runs[1].text.strip().lower() == "rojo"  # a lone run is a sentence to Apertium
    assert "casa" in translated.paragraphs[0].text.lower()
    style = translated.paragraphs[0].style
    assert style is not None and style.name == "Heading 1"
    assert translated.tables[0].cell(0, 0).text == "El perro"
    assert translated.tables[0].cell(0, 1).text == "42"


@needs_apertium
def test_pptx_keeps_shapes_and_runs(make_job: MakeJob) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "The house"
    frame = slide.placeholders[1].text_frame
    frame.text = "The dog is big"
    run = frame.paragraphs[0].add_run()
    run.text = " and black"
    run.font.bold = True
    buffer = io.BytesIO()
    presentation.save(buffer)
    out, _ = translate(make_job, "a.pptx", buffer.getvalue(), "pptx")
    translated = pptx.Presentation(io.BytesIO(out)).slides[0]
    assert len(translated.shapes) == 2
    assert translated.shapes.title.text == "La casa"
    runs = translated.placeholders[1].text_frame.paragraphs[0].runs
    assert len(runs) == 2 and runs[1].font.bold is True
    assert "perro" in runs[0].text and "negro" in runs[1].text


@needs_apertium
def test_xlsx_translates_string_cells_only(make_job: MakeJob) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["The house", 3, "=B1*2"])
    sheet.append(["The water", None, "The city"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    out, _ = translate(make_job, "a.xlsx", buffer.getvalue(), "xlsx")
    translated = openpyxl.load_workbook(io.BytesIO(out)).active
    assert translated is not None
    rows = [
        [c.value.lower() if isinstance(c.value, str) else c.value for c in row]
        for row in translated.iter_rows()
    ]
    assert rows == [["la casa", 3, "=b1*2"], ["el agua", None, "la ciudad"]]


@needs_apertium
def test_html_keeps_tags_attributes_and_scripts(make_job: MakeJob) -> None:
    page = (
        '<!DOCTYPE html><html><head><title>The house</title><script>var house = "house";</script></head>'
        '<body><p class="intro" id="p1">The dog is <b>black</b> &amp; big.</p>'
        '<a href="/house.html">The city</a><pre>the house</pre></body></html>'
    )
    out, _ = translate(make_job, "a.html", page.encode(), "html")
    result = out.decode()
    for kept in (
        '<p class="intro" id="p1">',
        "<b>",
        '<a href="/house.html">',
        'var house = "house";',
        "<pre>the house</pre>",
        "<!DOCTYPE html>",
    ):
        assert kept in result
    assert "<title>La casa</title>" in result and "La ciudad" in result and "&amp;" in result
    assert result.count("<") == page.count("<")


@needs_apertium
def test_markdown_keeps_syntax_and_code_blocks(make_job: MakeJob) -> None:
    text = "# The house\n\n- The **red** car\n- See [the city](http://x/house)\n\n```\nthe house\n```\nUse `house` now.\n"
    out, _ = translate(make_job, "a.md", text.encode(), "markdown")
    lines = out.decode().split("\n")
    assert lines[0].startswith("# ") and "casa" in lines[0].lower()
    assert lines[2].startswith("- ") and "**rojo**" in lines[2].lower()
    assert "](http://x/house)" in lines[3]
    assert lines[5:8] == ["```", "the house", "```"]
    assert "`house`" in lines[8]


def test_a_pair_without_an_engine_fails_naming_the_pair(
    make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANXIANG_TRANSLATION_ENGINES", "en-es=none")
    job, job_io = make_job(
        "a.txt",
        b"hello",
        {"Lang": "en", "Type": "txt"},
        {"Translation": {"Lang": "ko", "Type": "txt"}, "Output": {"Object": "o.txt"}},
    )
    with pytest.raises(JobFailure) as failed:
        TranslationEngine().run(job, job_io)
    assert failed.value.code == "UnsupportedLanguagePair"
    assert "en-ko" in failed.value.message


def test_pdf_is_a_valid_request_but_fails_as_unsupported_here(make_job: MakeJob) -> None:
    operation = {"Translation": {"Lang": "es", "Type": "pdf"}, "Output": {"Object": "o.pdf"}}
    validate_translation(operation, {"Object": "a.pdf", "Lang": "en", "Type": "pdf"})
    job, job_io = make_job("a.pdf", b"%PDF-1.4", {"Lang": "en", "Type": "pdf"}, operation)
    with pytest.raises(JobFailure) as failed:
        TranslationEngine().run(job, job_io)
    assert failed.value.code == "UnsupportedDocumentType"


def test_a_target_outside_the_table_is_refused_at_submit() -> None:
    with pytest.raises(CIError):
        validate_translation(
            {"Translation": {"Lang": "es", "Type": "txt"}, "Output": {"Object": "o"}},
            {"Object": "a.txt", "Lang": "de", "Type": "txt"},
        )


def test_argos_mapping_without_the_package_fails_clearly(
    make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANXIANG_TRANSLATION_ENGINES", "en-fr=argos")
    job, job_io = make_job(
        "a.txt",
        b"hello",
        {"Lang": "en", "Type": "txt"},
        {"Translation": {"Lang": "fr", "Type": "txt"}, "Output": {"Object": "o.txt"}},
    )
    with pytest.raises(JobFailure) as failed:
        TranslationEngine().run(job, job_io)
    assert failed.value.code == "EngineUnavailable" and "argostranslate" in failed.value.message
