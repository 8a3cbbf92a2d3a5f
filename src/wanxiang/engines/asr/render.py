"""A Transcript as CI's SpeechRecognitionResult node and as the txt/srt output object."""

from __future__ import annotations

import re

from wanxiang.engines.asr.transcript import Sentence, Transcript
from wanxiang.model.tree import Tree

_FINAL_PUNCT = re.compile(r"[.!?。！？…]+$")
_ANY_PUNCT = re.compile(r"[^\w\s'’-]+")


def filter_punc(text: str, mode: str) -> str:
    """FilterPunc: ``1`` drops sentence-final punctuation, ``2`` drops all punctuation."""
    if mode == "2":
        return re.sub(r"\s{2,}", " ", _ANY_PUNCT.sub("", text)).strip()
    if mode == "1":
        return _FINAL_PUNCT.sub("", text.rstrip())
    return text


def _clock(seconds: float) -> str:
    """``m:s.mmm``, as CI writes segment timestamps."""
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:.3f}"


def _srt_clock(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def timestamped_text(sentences: list[tuple[Sentence, str]]) -> str:
    """ResTextFormat 0: one ``[start,end]  text`` line per sentence."""
    return "".join(f"[{_clock(s.start)},{_clock(s.end)}]  {text}\n" for s, text in sentences)


def srt(sentences: list[tuple[Sentence, str]]) -> str:
    blocks = [
        f"{i}\n{_srt_clock(s.start)} --> {_srt_clock(s.end)}\n{text}\n"
        for i, (s, text) in enumerate(sentences, start=1)
    ]
    return "\n".join(blocks)


def _detail(sentence: Sentence, text: str) -> Tree:
    seconds = max(sentence.end - sentence.start, 1e-3)
    start_ms = round(sentence.start * 1000)
    return {
        "FinalSentence": text,
        "SliceSentence": " ".join(w.text for w in sentence.words),
        "StartMs": str(start_ms),
        "EndMs": str(round(sentence.end * 1000)),
        "WordsNum": str(len(sentence.words)),
        "SpeechSpeed": f"{len(sentence.words) / seconds:.1f}",  # words per second
        "SpeakerId": "0",
        "Words": [
            {
                "Word": w.text,
                # Offsets are relative to the sentence start, as CI's word list gives them.
                "OffsetStartMs": str(round(w.start * 1000) - start_ms),
                "OffsetEndMs": str(round(w.end * 1000) - start_ms),
            }
            for w in sentence.words
        ],
    }


def filtered_sentences(transcript: Transcript, punc_mode: str) -> list[tuple[Sentence, str]]:
    pairs = [(s, filter_punc(s.text, punc_mode)) for s in transcript.sentences]
    return [(s, text) for s, text in pairs if text]


def speech_recognition_result(
    transcript: Transcript, audio_seconds: float, res_text_format: str, punc_mode: str
) -> Tree:
    """The ``SpeechRecognitionResult`` node; word detail only for ResTextFormat 1 and 2."""
    sentences = filtered_sentences(transcript, punc_mode)
    result: Tree = {"AudioTime": f"{audio_seconds:.3f}", "Result": timestamped_text(sentences)}
    if res_text_format in ("1", "2"):
        result["ResultDetail"] = [_detail(s, text) for s, text in sentences]
    return {"SpeechRecognitionResult": result}


def output_document(transcript: Transcript, output_type: str, punc_mode: str) -> tuple[bytes, str]:
    """The Output object's bytes and content type: timestamped text (txt) or subtitles (srt)."""
    sentences = filtered_sentences(transcript, punc_mode)
    if output_type == "srt":
        return srt(sentences).encode(), "application/x-subrip"
    return timestamped_text(sentences).encode(), "text/plain; charset=utf-8"
