from __future__ import annotations

import pytest

from conftest import MakeJob
from wanxiang.engines.words.engine import WordsGeneralizeEngine
from wanxiang.engines.words.params import validate_words_generalize
from wanxiang.model.errors import CIError
from wanxiang.model.tree import Tree

SENTENCE = "张三在北京的腾讯公司工作"


def _run(make_job: MakeJob, body: bytes, seg: str = "MIX", ner: str = "DL") -> Tree:
    op = {"WordsGeneralize": {"SegMethod": seg, "NerMethod": ner}}
    job, io = make_job("in.txt", body, {}, op)
    result: Tree = WordsGeneralizeEngine().run(job, io)["WordsGeneralizeResult"]
    return result


def _labels(result: Tree) -> dict[str, str]:
    return {n["Word"]: n["Category"] for n in result["WordsGeneralizeLable"]}


def test_a_person_a_place_and_a_company_are_found_with_their_offsets(make_job: MakeJob) -> None:
    result = _run(make_job, SENTENCE.encode())
    assert _labels(result) == {"张三": "Person", "北京": "Location", "腾讯公司": "Organization"}
    tokens = {(t["Word"], t["Offset"], t["Length"], t["Pos"]) for t in result["WordsGeneralizeToken"]}
    assert ("张三", "0", "2", "nr") in tokens
    assert ("北京", "3", "2", "ns") in tokens
    assert ("腾讯", "6", "2", "nz") in tokens
    for token in result["WordsGeneralizeToken"]:
        start = int(token["Offset"])
        assert SENTENCE[start : start + int(token["Length"])] == token["Word"]


def test_basic_methods_use_the_dictionary_only_so_an_unknown_name_is_not_a_person(
    make_job: MakeJob,
) -> None:
    result = _run(make_job, SENTENCE.encode(), seg="SegBasic", ner="NerBasic")
    assert _labels(result) == {"北京": "Location"}
    words = [t["Word"] for t in result["WordsGeneralizeToken"]]
    assert "".join(words) == SENTENCE


def test_mix_gives_a_long_word_and_its_parts(make_job: MakeJob) -> None:
    result = _run(make_job, "我在上海浦东的中国银行开户。".encode())
    words = [t["Word"] for t in result["WordsGeneralizeToken"]]
    assert {"上海", "浦东", "上海浦东", "中国银行"} <= set(words)
    assert _labels(result)["中国银行"] == "Organization"
    assert result["WordsGeneralizeToken"][-1] == {"Length": "1", "Offset": "13", "Pos": "w", "Word": "。"}


def test_gbk_and_utf16_files_give_the_same_tokens_as_utf8(make_job: MakeJob) -> None:
    expected = _run(make_job, SENTENCE.encode())
    assert _run(make_job, SENTENCE.encode("gbk")) == expected
    assert _run(make_job, SENTENCE.encode("utf-16")) == expected


def test_english_words_are_tokens_tagged_nx_with_character_offsets(make_job: MakeJob) -> None:
    text = "Hello big world, 2024!"
    tokens = _run(make_job, text.encode())["WordsGeneralizeToken"]
    assert [(t["Word"], t["Offset"], t["Pos"]) for t in tokens] == [
        ("Hello", "0", "nx"),
        ("big", "6", "nx"),
        ("world", "10", "nx"),
        (",", "15", "w"),
        ("2024", "17", "m"),
        ("!", "21", "w"),
    ]


def test_an_unknown_seg_method_is_refused_at_submit() -> None:
    with pytest.raises(CIError) as refused:
        validate_words_generalize({"WordsGeneralize": {"SegMethod": "Fancy"}}, {"Object": "a.txt"})
    assert refused.value.code == "InvalidArgument"
    validate_words_generalize({"WordsGeneralize": {"SegMethod": "Mix"}}, {"Object": "a.txt"})
