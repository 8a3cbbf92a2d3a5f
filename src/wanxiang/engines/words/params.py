"""Submit-time checks of WordsGeneralize params (light: jieba is not imported)."""

from __future__ import annotations

from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree, text

SEG_METHODS = {"mix": "MIX", "segbasic": "SegBasic"}
NER_METHODS = {"dl": "DL", "nerbasic": "NerBasic"}
MAX_INPUT_BYTES = 10 * 1024 * 1024


def validate_words_generalize(operation: Tree, input: Tree) -> None:
    """Submit-time checks: an input object and known SegMethod/NerMethod values."""
    if not text(input, "Object"):
        raise invalid_argument("Input.Object is required for WordsGeneralize.")
    seg = text(operation, "WordsGeneralize", "SegMethod")
    if seg and seg.lower() not in SEG_METHODS:
        raise invalid_argument(f"SegMethod must be MIX or SegBasic, not {seg!r}.")
    ner = text(operation, "WordsGeneralize", "NerMethod")
    if ner and ner.lower() not in NER_METHODS:
        raise invalid_argument(f"NerMethod must be DL or NerBasic, not {ner!r}.")
