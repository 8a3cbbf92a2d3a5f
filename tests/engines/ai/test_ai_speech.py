from __future__ import annotations

import subprocess
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream

from conftest import MakeJob, tool_missing
from wanxiang.engines.asr.engine import SpeechRecognitionEngine
from wanxiang.engines.asr.params import validate_speech_recognition
from wanxiang.model.errors import CIError, JobFailure
from wanxiang.model.tree import Tree

pytestmark = pytest.mark.skipif(
    tool_missing("espeak-ng"),
    reason="espeak-ng is not installed: run `make system-deps` (apt-get install -y espeak-ng)",
)

SENTENCES = [
    "the weather is nice today",
    "please call me tomorrow morning at the office",
    "we are going to the city in the morning",
    "she wants to buy a new car",
]
# Measured with pocketsphinx 5.1.1's bundled US English model on espeak-ng 1.51's en-us+klatt voice
# at 130 words/min: wav 0.31, flac 0.31, mp3 0.38, ogg/opus 0.00 (the decode path changes the
# spectrum a little). Robotic synthetic speech is hard for this HMM model; the bound sits above the
# worst measured container and catches a broken pipeline (garbage gives WER near 1.0).
WER_BOUND = 0.45


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    rows = np.zeros((len(reference) + 1, len(hypothesis) + 1), dtype=int)
    rows[:, 0] = range(len(reference) + 1)
    rows[0, :] = range(len(hypothesis) + 1)
    for i, ref_word in enumerate(reference, start=1):
        for j, hyp_word in enumerate(hypothesis, start=1):
            rows[i, j] = min(rows[i - 1, j] + 1, rows[i, j - 1] + 1, rows[i - 1, j - 1] + (ref_word != hyp_word))
    return float(rows[-1, -1]) / len(reference)


def speak(tmp_path: Path, sentences: list[str]) -> Path:
    """espeak-ng speech, one sentence after another with a pause between them (SSML breaks)."""
    wav = tmp_path / "speech.wav"
    ssml = "<speak>" + "".join(f"{s}.<break time='800ms'/>" for s in sentences) + "</speak>"
    subprocess.run(["espeak-ng", "-m", "-v", "en-us+klatt", "-s", "130", "-w", str(wav), ssml], check=True)
    return wav


def convert(wav: Path, suffix: str, codec: str) -> Path:
    """The same speech in another container, encoded with PyAV."""
    target = wav.with_suffix(suffix)
    with av.open(str(wav)) as source, av.open(str(target), "w") as sink:
        in_stream = source.streams.audio[0]
        out_stream = cast(AudioStream, sink.add_stream(codec, rate=48000 if codec == "libopus" else in_stream.rate))
        out_stream.layout = "mono"
        for frame in source.decode(in_stream):
            frame.pts = None
            for packet in out_stream.encode(frame):
                sink.mux(packet)
        for packet in out_stream.encode(None):
            sink.mux(packet)
    return target


def recognise(make_job: MakeJob, audio: Path, params: Tree, output: str = "") -> tuple[Tree, dict[str, bytes]]:
    operation: Tree = {"SpeechRecognition": {"EngineModelType": "16k_en", **params}}
    if output:
        operation["Output"] = {"Region": "ap-guangzhou", "Bucket": "b-1250000000", "Object": output}
    job, io = make_job(audio.name, audio.read_bytes(), {}, operation)
    result: Tree = SpeechRecognitionEngine().run(job, io)["SpeechRecognitionResult"]
    return result, io.written


def words_of(result: Tree) -> list[str]:
    return [w["Word"] for detail in result["ResultDetail"] for w in detail["Words"]]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(tmp_path_factory.mktemp("speech"), SENTENCES)


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".wav", ""), (".mp3", "libmp3lame"), (".ogg", "libopus"), (".flac", "flac")]
)
def test_spoken_english_comes_back_as_text_with_a_low_word_error_rate(
    make_job: MakeJob, speech: Path, suffix: str, codec: str
) -> None:
    audio = speech if not codec else convert(speech, suffix, codec)
    result, _ = recognise(make_job, audio, {"ResTextFormat": "1"})
    reference = " ".join(SENTENCES).split()
    wer = word_error_rate(reference, words_of(result))
    print(f"WER {suffix}: {wer:.2f}  hypothesis: {' '.join(words_of(result))}")
    assert wer < WER_BOUND
    assert 5.0 < float(result["AudioTime"]) < 15.0


def test_word_timings_increase_and_sit_inside_their_sentence(make_job: MakeJob, speech: Path) -> None:
    result, _ = recognise(make_job, speech, {"ResTextFormat": "2"})
    assert len(result["ResultDetail"]) >= 2  # the pauses split the sentences
    last_end = 0
    for detail in result["ResultDetail"]:
        start, end = int(detail["StartMs"]), int(detail["EndMs"])
        assert last_end <= start < end
        assert int(detail["WordsNum"]) == len(detail["Words"])
        offsets = [(int(w["OffsetStartMs"]), int(w["OffsetEndMs"])) for w in detail["Words"]]
        assert all(0 <= a < b <= end - start for a, b in offsets)
        assert offsets == sorted(offsets)
        last_end = end


def test_format_0_gives_timestamped_lines_and_an_srt_output_object(make_job: MakeJob, speech: Path) -> None:
    result, written = recognise(make_job, speech, {"ResTextFormat": "0", "OutputFileType": "srt"}, "out.srt")
    assert "ResultDetail" not in result
    lines = result["Result"].splitlines()
    assert lines and all(line.startswith("[0:") for line in lines)
    subtitles = written["out.srt"].decode()
    assert subtitles.startswith("1\n00:00:")
    assert " --> " in subtitles and "weather" in subtitles


def test_a_model_type_without_an_engine_fails_the_job_naming_the_type(make_job: MakeJob, speech: Path) -> None:
    job, io = make_job("a.wav", speech.read_bytes(), {}, {"SpeechRecognition": {"EngineModelType": "16k_ja"}})
    with pytest.raises(JobFailure) as failed:
        SpeechRecognitionEngine().run(job, io)
    assert failed.value.code == "UnsupportedEngineModelType"
    assert "16k_ja" in failed.value.message


def test_a_whisper_mapping_without_faster_whisper_installed_fails_clearly(
    make_job: MakeJob, speech: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANXIANG_ASR_ENGINES", "16k_zh=whisper:/models/small")
    job, io = make_job("a.wav", speech.read_bytes(), {}, {"SpeechRecognition": {"EngineModelType": "16k_zh"}})
    with pytest.raises(JobFailure) as failed:
        SpeechRecognitionEngine().run(job, io)
    assert failed.value.code == "EngineUnavailable"
    assert "faster-whisper" in failed.value.message


def test_an_unknown_engine_model_type_is_refused_at_submit() -> None:
    with pytest.raises(CIError):
        validate_speech_recognition({"SpeechRecognition": {"EngineModelType": "16k_xx"}}, {"Object": "a.wav"})
    validate_speech_recognition({"SpeechRecognition": {"EngineModelType": "8k_en"}}, {"Object": "a.wav"})
