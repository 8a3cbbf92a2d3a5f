"""Throughput of the AI engines against their bare libraries, measured in the same run.

Run: .venv/bin/python bench/ai_engines.py
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import docx
import jieba
import jieba.posseg

from wanxiang.engines.asr.audio import decode_audio
from wanxiang.engines.asr.recognizers import PocketsphinxRecognizer
from wanxiang.engines.translation.office import translate_docx
from wanxiang.engines.translation.translators import ApertiumTranslator
from wanxiang.engines.words.engine import words_generalize_result
from wanxiang.engines.words.segment import ensure_loaded

CHINESE = "张三在北京的腾讯公司工作，李明和王小红昨天去了上海浦东的中国银行。我爱北京天安门。"
ENGLISH = ["The house is big and the garden is green.", "I see the red car in the street near the city."]


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def bench_words() -> list[str]:
    ensure_loaded()
    text = CHINESE * 400
    bare = _timed(lambda: jieba.lcut(text))
    tagging = _timed(lambda: list(jieba.posseg.cut(text)))
    ours = _timed(lambda: words_generalize_result(text, "MIX", "DL"))
    return [
        f"WordsGeneralize: {len(text)} chars; ours (MIX+DL) {len(text) / ours:,.0f} chars/s, "
        f"bare jieba.lcut {len(text) / bare:,.0f} chars/s, ratio {ours / bare:.2f}x slower; "
        f"bare jieba.posseg.cut {len(text) / tagging:,.0f} chars/s, ratio {ours / tagging:.2f}x"
    ]


def bench_asr(folder: Path) -> list[str]:
    if shutil.which("espeak-ng") is None:
        return ["SpeechRecognition: skipped (espeak-ng missing; make system-deps)"]
    wav = folder / "clip.wav"
    words = " ".join(["please call me tomorrow morning at the office. the weather is nice today."] * 4)
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "130", "-w", str(wav), words], check=True)
    recognizer = PocketsphinxRecognizer()
    samples = decode_audio(wav, recognizer.sample_rate)
    seconds = len(samples) / recognizer.sample_rate
    elapsed = _timed(lambda: recognizer.recognize(samples, recognizer.sample_rate))
    return [f"SpeechRecognition: {seconds:.1f} s clip, pocketsphinx real-time factor {elapsed / seconds:.2f}"]


def bench_translation() -> list[str]:
    if shutil.which("apertium") is None:
        return ["Translation: skipped (apertium missing; make system-deps)"]
    document = docx.Document()
    paragraphs = [ENGLISH[i % 2] for i in range(400)]
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    translator = ApertiumTranslator()
    n_words = sum(len(p.split()) for p in paragraphs)
    ours = _timed(lambda: translate_docx(buffer.getvalue(), lambda t: translator.translate(t, "en", "es")))
    plain = "\n\n".join(paragraphs).encode()
    bare = _timed(lambda: subprocess.run(["apertium", "-u", "eng-spa"], input=plain, capture_output=True, check=True))
    return [
        f"Translation: docx of {n_words} words; ours {n_words / ours:,.0f} words/s, "
        f"bare apertium {n_words / bare:,.0f} words/s, ratio {ours / bare:.2f}x slower"
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for line in [*bench_words(), *bench_asr(Path(folder)), *bench_translation()]:
            print(line)


if __name__ == "__main__":
    main()
