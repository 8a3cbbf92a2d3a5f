"""Segmentation and POS tagging with jieba, with offsets in characters of the input text.

SegMethod:
* ``MIX`` (default): jieba's HMM finds words missing from the dictionary (names, new words), and
  long words are also given as their dictionary sub-words (mixed granularity, as jieba's search
  mode does), so "上海浦东" yields 上海, 浦东 and 上海浦东.
* ``SegBasic``: jieba's precise mode without HMM: dictionary words only, one granularity.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import dataclass

import jieba
import jieba.posseg

jieba.setLogLevel(logging.WARNING)
_init_lock = threading.Lock()


@dataclass(frozen=True)
class Token:
    word: str
    offset: int  # characters from the start of the text
    length: int  # characters
    pos: str  # CI tag, lower case as the samples show


# jieba (ICTCLAS-style) tags that CI's table spells differently; the others are already CI tags.
_POS_TO_CI: dict[str, str] = {
    "eng": "nx",  # ICTCLAS: nx = foreign-letter string
    "nrfg": "nr",
    "nrt": "nrf",  # transliterated personal name
    "df": "d",
    "mq": "m",
    "rr": "r",
    "rz": "r",
    "ud": "u",
    "ug": "u",
    "uj": "u",
    "ul": "u",
    "uv": "u",
    "uz": "u",
    "vi": "v",
    "vq": "v",
}
_CI_POS = {
    "a", "ad", "an", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "nr", "nrf",
    "nrg", "ns", "nt", "nz", "nx", "o", "p", "q", "r", "s", "t", "u", "v", "vd", "vn", "w", "x", "y",
    "z", "ag", "bg", "dg", "mg", "ng", "qg", "rg", "tg", "vg", "yg", "zg", "unk",
}


def ensure_loaded() -> None:
    """Load jieba's dictionary once (about a second); later calls are free."""
    with _init_lock:
        if not jieba.dt.initialized:
            jieba.initialize()


def _is_punctuation(word: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PS" for ch in word)


def ci_pos(word: str, flag: str) -> str:
    """jieba's flag in CI's vocabulary; punctuation is ``w`` whatever jieba guessed."""
    if _is_punctuation(word):
        return "w"
    if word.isdigit():
        return "m"
    pos = _POS_TO_CI.get(flag, flag)
    return pos if pos in _CI_POS else "unk"


def tagged(text: str, hmm: bool) -> list[Token]:
    """One-granularity tokens (jieba precise mode), with or without HMM for unknown words."""
    ensure_loaded()
    tokens: list[Token] = []
    offset = 0
    for pair in jieba.posseg.cut(text, HMM=hmm):
        word, flag = pair.word, pair.flag
        if word.strip():
            tokens.append(Token(word, offset, len(word), ci_pos(word, flag)))
        offset += len(word)
    return tokens


def _dictionary_pos(word: str) -> str:
    flag = jieba.posseg.dt.word_tag_tab.get(word, "x")
    return ci_pos(word, flag)


def _sub_words(token: Token) -> list[Token]:
    """Dictionary words of length 2 and 3 inside a longer token (jieba's search-mode rule)."""
    found: list[Token] = []
    freq = jieba.dt.FREQ
    for size in (2, 3):
        if token.length <= size:
            continue
        for start in range(token.length - size + 1):
            piece = token.word[start : start + size]
            if freq.get(piece):
                found.append(Token(piece, token.offset + start, size, _dictionary_pos(piece)))
    return found


def uses_hmm(seg_method: str) -> bool:
    return seg_method.lower() != "segbasic"


def segment(text: str, seg_method: str, tokens: list[Token] | None = None) -> list[Token]:
    """Tokens of ``text`` in order of offset (whitespace dropped). ``tokens``: the tagging pass
    with the HMM setting of ``seg_method``, when the caller already has it."""
    ensure_loaded()
    if tokens is None:
        tokens = tagged(text, hmm=uses_hmm(seg_method))
    if not uses_hmm(seg_method):
        return tokens
    mixed: list[Token] = []
    for token in tokens:
        mixed.extend(_sub_words(token))
        mixed.append(token)
    return sorted(mixed, key=lambda t: (t.offset, t.length))
