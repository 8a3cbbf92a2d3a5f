"""CI's language and document-type tables for Translation (reference section 9)."""

from __future__ import annotations

from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree, text

ZH_FAMILY = ("zh", "zh-hk", "zh-tw", "zh-tr")
SOURCE_LANGS = frozenset((*ZH_FAMILY, "en", "ar", "de", "es", "fr", "id", "it", "ja", "pt", "ru", "ko", "km", "lo"))
_FROM_ZH = frozenset(("en", "ar", "de", "es", "fr", "id", "it", "ja", "ru", "ko", "km", "lo", "pt"))
_FROM_EN = frozenset((*ZH_FAMILY, "ar", "de", "es", "fr", "id", "it", "ja", "ru", "ko", "km", "lo", "pt"))
_FROM_OTHER = frozenset((*ZH_FAMILY, "en"))
INPUT_TYPES = frozenset(("pdf", "docx", "pptx", "xlsx", "txt", "xml", "html", "markdown", "jpg", "jpeg", "png"))
OUTPUT_TYPES: dict[str, frozenset[str]] = {
    "docx": frozenset({"docx"}),
    "pptx": frozenset({"pptx"}),
    "xlsx": frozenset({"xlsx"}),
    "txt": frozenset({"txt"}),
    "xml": frozenset({"xml"}),
    "html": frozenset({"html"}),
    "markdown": frozenset({"markdown"}),
    "pdf": frozenset({"pdf", "docx"}),
    "png": frozenset({"txt"}),
    "jpg": frozenset({"txt"}),
    "jpeg": frozenset({"txt"}),
}
# Types this server translates itself; the others are valid CI requests that fail as jobs.
SUPPORTED_TYPES = frozenset(("docx", "pptx", "xlsx", "txt", "html", "markdown"))

# CI codes -> ISO 639-3 codes as Apertium names its modes.
APERTIUM_CODES: dict[str, str] = {
    "en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ar": "ara",
    "ru": "rus", "id": "ind", "ja": "jpn", "ko": "kor", "zh": "zho", "km": "khm", "lo": "lao",
}  # fmt: skip


def targets_for(source: str) -> frozenset[str]:
    if source in ZH_FAMILY:
        return _FROM_ZH
    if source == "en":
        return _FROM_EN
    return _FROM_OTHER


def validate_translation(operation: Tree, input: Tree) -> None:
    """Submit-time checks of Input Lang/Type and Operation/Translation Lang/Type against CI's tables."""
    if not text(input, "Object"):
        raise invalid_argument("Input.Object is required for Translation.")
    source, input_type = text(input, "Lang"), text(input, "Type")
    if source not in SOURCE_LANGS:
        raise invalid_argument(f"Input.Lang {source!r} is not one of {sorted(SOURCE_LANGS)}.")
    if input_type not in INPUT_TYPES:
        raise invalid_argument(f"Input.Type {input_type!r} is not one of {sorted(INPUT_TYPES)}.")
    target = text(operation, "Translation", "Lang")
    if target not in targets_for(source):
        raise invalid_argument(f"Translation.Lang {target!r} is not a target for source {source!r}.")
    output_type = text(operation, "Translation", "Type") or input_type
    if output_type not in OUTPUT_TYPES[input_type]:
        raise invalid_argument(f"Translation.Type {output_type!r} cannot be made from {input_type!r}.")
    no_output = text(operation, "NoNeedOutput").lower() == "true"
    if not no_output and not text(operation, "Output", "Object"):
        raise invalid_argument("Operation.Output.Object is required for Translation.")
