"""The WordsGeneralize engine: a text object in, tokens and entity labels in the job's result."""

from __future__ import annotations

from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.engines.words.entities import Entity, entities
from wanxiang.engines.words.entities import uses_hmm as ner_uses_hmm
from wanxiang.engines.words.params import MAX_INPUT_BYTES
from wanxiang.engines.words.segment import Token, ensure_loaded, segment, tagged
from wanxiang.engines.words.segment import uses_hmm as segment_uses_hmm
from wanxiang.engines.words.textcodec import decode_text
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree, text


def _token_node(token: Token) -> Tree:
    return {
        "Length": str(token.length),
        "Offset": str(token.offset),
        "Pos": token.pos,
        "Word": token.word,
    }


def _label_node(entity: Entity) -> Tree:
    return {"Category": entity.category, "Word": entity.word}


def words_generalize_result(source: str, seg_method: str, ner_method: str) -> Tree:
    """The ``WordsGeneralizeResult`` node for ``source`` (pure: no storage)."""
    # Tagging is the costly part; the default methods (MIX and DL) both want the HMM pass, so
    # each distinct pass runs once and serves both.
    seg_hmm, ner_hmm = segment_uses_hmm(seg_method), ner_uses_hmm(ner_method)
    passes = {hmm: tagged(source, hmm=hmm) for hmm in {seg_hmm, ner_hmm}}
    return {
        "WordsGeneralizeResult": {
            "WordsGeneralizeLable": [_label_node(e) for e in entities(source, ner_method, passes[ner_hmm])],
            "WordsGeneralizeToken": [_token_node(t) for t in segment(source, seg_method, passes[seg_hmm])],
        }
    }


def _read_text(io: JobIO) -> str:
    path = io.input_path()
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise JobFailure("InvalidInput", "The input text is larger than 10 MB.")
    try:
        return decode_text(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise JobFailure("InvalidInput", "The input is not UTF-8, UTF-16 or GBK text.") from exc


class WordsGeneralizeEngine:
    tag = "WordsGeneralize"

    def __init__(self) -> None:
        ensure_loaded()

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        seg = text(job.operation, "WordsGeneralize", "SegMethod") or "MIX"
        ner = text(job.operation, "WordsGeneralize", "NerMethod") or "DL"
        source = _read_text(io)
        io.progress(50)
        return words_generalize_result(source, seg, ner)
