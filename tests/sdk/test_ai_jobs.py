"""WordsGeneralize, SpeechRecognition and Translation jobs through the official SDK."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.jobs import wait_for_state
from tests.support.media import espeak_wav
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request


def media_getter(cos: Any, bucket: str) -> Any:
    return lambda job_id: cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_words_generalize_finds_people_places_and_organisations(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body="张三在北京的腾讯公司工作".encode(), Key="text/zh.txt")
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "WordsGeneralize", "Input": {"Object": "text/zh.txt"},
        "Operation": {"WordsGeneralize": {"NerMethod": "DL", "SegMethod": "MIX"}, "UserData": "u1"}})
    job_id = response["JobsDetail"][0]["JobId"]
    assert job_id.startswith("a")
    detail = wait_for_state(media_getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    result = detail["Operation"]["WordsGeneralizeResult"]
    labels = {(label["Category"], label["Word"]) for label in as_list(result["WordsGeneralizeLable"])}
    assert ("Person", "张三") in labels and ("Location", "北京") in labels
    assert any(category == "Organization" and "腾讯" in word for category, word in labels)
    tokens = as_list(result["WordsGeneralizeToken"])
    beijing = next(t for t in tokens if t["Word"] == "北京")
    assert (beijing["Offset"], beijing["Length"]) == ("3", "2")
    listed = cos.ci_list_media_jobs(Bucket=bucket, Tag="WordsGeneralize")
    assert [d["JobId"] for d in listed["JobsDetail"]] == [job_id]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng: run `make system-deps`")
def test_speech_recognition_with_an_asr_template_transcribes_spoken_english(cos: Any, bucket: str, tmp_path: Path) -> None:
    wav = espeak_wav("the weather is nice today. please call me tomorrow morning at the office", tmp_path / "fox.wav")
    assert wav is not None
    cos.put_object(Bucket=bucket, Body=wav.read_bytes(), Key="audio/fox.wav")
    template = cos.ci_create_asr_template(Bucket=bucket, Name="english", EngineModelType="16k_en",
                                          ChannelNum=1, ResTextFormat=1)
    template_id = template["Template"]["TemplateId"]
    job = cos.ci_create_asr_job(Bucket=bucket, InputObject="audio/fox.wav", TemplateId=template_id,
                                OutputBucket=bucket, OutputRegion=REGION, OutputObject="asr/fox.txt")
    # The SDK leaves a single ASR JobsDetail as a dict, as the service sends one element.
    job_id = as_list(job["JobsDetail"])[0]["JobId"]
    assert job_id.startswith("s")

    def get(i: str) -> dict[str, Any]:
        response = cos.ci_get_asr_job(Bucket=bucket, JobID=i)
        return {"JobsDetail": as_list(response["JobsDetail"])}

    detail = wait_for_state(get, job_id, timeout=120)
    assert detail["State"] == "Success", detail
    result = detail["Operation"]["SpeechRecognitionResult"]
    heard = " ".join(as_list(result["Result"])).lower()
    expected = ("weather", "nice", "today", "call", "tomorrow", "morning", "office")
    assert sum(word in heard for word in expected) >= 4, heard
    assert float(result["AudioTime"]) > 1.0
    assert as_list(result["ResultDetail"])[0]["Words"]
    text = cos.get_object(Bucket=bucket, Key="asr/fox.txt")["Body"].get_raw_stream().read().decode()
    assert sum(word in text.lower() for word in expected) >= 4, text
    listed = cos.ci_list_asr_jobs(Bucket=bucket)
    assert [d["JobId"] for d in as_list(listed["JobsDetail"])] == [job_id]
    assert cos.ci_get_asr_template(Bucket=bucket, Ids=template_id)["TemplateList"][0]["Name"] == "english"


@pytest.mark.skipif(shutil.which("apertium") is None, reason="needs Apertium: run `make system-deps`")
def test_translation_of_a_text_document_from_english_to_spanish(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"The house is big.\nThe dog sleeps.\n", Key="docs/en.txt")
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Translation", "Input": {"Object": "docs/en.txt", "Lang": "en", "Type": "txt"},
        "Operation": {"Translation": {"Lang": "es", "Type": "txt"},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "docs/es.txt"}}})
    detail = wait_for_state(media_getter(cos, bucket), response["JobsDetail"][0]["JobId"], timeout=60)
    assert detail["State"] == "Success", detail
    translated = cos.get_object(Bucket=bucket, Key="docs/es.txt")["Body"].get_raw_stream().read().decode().lower()
    assert "casa" in translated and "perro" in translated
    assert len(translated.strip().splitlines()) == 2
    listed = cos.ci_list_media_jobs(Bucket=bucket, Tag="Translation")
    assert [d["JobId"] for d in listed["JobsDetail"]] == [detail["JobId"]]


def test_translation_to_a_language_outside_the_table_is_refused(cos: Any, bucket: str) -> None:
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
            "Tag": "Translation", "Input": {"Object": "a.txt", "Lang": "en", "Type": "txt"},
            "Operation": {"Translation": {"Lang": "xx", "Type": "txt"},
                          "Output": {"Region": REGION, "Bucket": bucket, "Object": "o.txt"}}})
    assert caught.value.get_status_code() == 400 and "Lang" in caught.value.get_error_msg()


def test_a_language_pair_without_an_engine_fails_the_job_naming_the_pair(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"hello", Key="a.txt")
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Translation", "Input": {"Object": "a.txt", "Lang": "en", "Type": "txt"},
        "Operation": {"Translation": {"Lang": "ko", "Type": "txt"},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "o.txt"}}})
    detail = wait_for_state(media_getter(cos, bucket), response["JobsDetail"][0]["JobId"])
    assert detail["State"] == "Failed"
    assert detail["Code"] == "UnsupportedLanguagePair" and "en" in detail["Message"] and "ko" in detail["Message"]


def test_the_older_ai_jobs_path_takes_and_reads_ai_jobs(server: RunningServer, cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body="我爱北京天安门".encode(), Key="t.txt")
    body = (b"<Request><Tag>WordsGeneralize</Tag><Input><Object>t.txt</Object></Input>"
            b"<Operation><WordsGeneralize><SegMethod>SegBasic</SegMethod></WordsGeneralize></Operation></Request>")
    response = signed(server, "POST", "/ai_jobs", bucket, body=body)
    assert response.status_code == 200, response.text
    job_id = parse_request(response.content, root="Response")["JobsDetail"]["JobId"]
    detail = wait_for_state(lambda i: {"JobsDetail": [parse_request(
        signed(server, "GET", f"/ai_jobs/{i}", bucket).content, root="Response")["JobsDetail"]]}, job_id)
    assert detail["State"] == "Success"
    words = [t["Word"] for t in as_list(detail["Operation"]["WordsGeneralizeResult"]["WordsGeneralizeToken"])]
    assert "北京" in words and "天安门" in words
