"""Sending only real text to an engine, and putting each answer back with its own spacing."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[list[str]], list[str]]  # one engine call for a whole document's segments


def _needs_translation(segment: str) -> bool:
    return any(ch.isalpha() for ch in segment)


def translate_segments(segments: list[str], translate: Translate) -> list[str]:
    """``segments`` translated in one batch; blanks, numbers and symbols are returned untouched.

    Leading and trailing whitespace is cut before the engine sees a segment and put back after,
    because it belongs to the document's layout (the space between two runs), not to the text.
    """
    wanted = [i for i, s in enumerate(segments) if _needs_translation(s)]
    answers = translate([segments[i].strip() for i in wanted]) if wanted else []
    out = list(segments)
    for i, answer in zip(wanted, answers, strict=True):
        original = segments[i]
        lead = original[: len(original) - len(original.lstrip())]
        trail = original[len(original.rstrip()) :]
        out[i] = f"{lead}{answer.strip()}{trail}"
    return out
