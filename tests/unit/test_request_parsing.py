"""Requests are parsed once into frozen values, and a bad field is named in the error."""

from __future__ import annotations

import dataclasses

import pytest

from wanxiang.model.errors import CIError
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import parse_job_filter
from wanxiang.services.listing import page_params
from wanxiang.services.templates import TemplateService
from wanxiang.store.store import Store
from wanxiang.wire.submit import Output, parse_submit_job
from wanxiang.wire.templates import template_tree
from wanxiang.wire.xml import parse_request

CTX = BucketContext("b-1250000000", "ap-guangzhou")
SUBMIT = (
    b"<Request><Tag>PicProcess</Tag><Input><Object>in/a.png</Object></Input>"
    b"<Operation><PicProcess><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>"
    b"<Output><Region>ap-guangzhou</Region><Bucket>b-1250000000</Bucket><Object>out/a.png</Object></Output>"
    b"<JobLevel>2</JobLevel><UserData>hello</UserData></Operation>"
    b"<CallBack>https://example.com/hook</CallBack><CallBackFormat>json</CallBackFormat></Request>"
)


def test_a_pic_job_request_becomes_typed_values() -> None:
    job = parse_submit_job(parse_request(SUBMIT))
    [operation] = job.operations
    assert job.tags(default="") == ["PicProcess"]
    assert operation.job_level == 2 and operation.user_data == "hello"
    assert operation.output == Output("ap-guangzhou", "b-1250000000", "out/a.png")
    assert operation.inline_params("PicProcess") == {"ProcessRule": "imageMogr2/rotate/90"}
    assert job.callback.settings() == {"Url": "https://example.com/hook", "Format": "JSON"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        operation.job_level = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ((b"<JobLevel>2</JobLevel>", b"<JobLevel>7</JobLevel>"), "Operation.JobLevel"),
        ((b"<UserData>hello</UserData>", b"<UserData>" + b"x" * 1025 + b"</UserData>"), "Operation.UserData"),
        ((b"<CallBackFormat>json</CallBackFormat>", b"<CallBackFormat>yaml</CallBackFormat>"), "CallBackFormat"),
        ((b"<Input><Object>in/a.png</Object></Input>", b""), "Input"),
    ],
)
def test_a_bad_field_is_named_when_parsing(change: tuple[bytes, bytes], field: str) -> None:
    with pytest.raises(CIError) as refused:
        parse_submit_job(parse_request(SUBMIT.replace(*change)))
    assert refused.value.code == "InvalidArgument" and field in refused.value.message


def test_a_missing_output_object_is_named() -> None:
    with pytest.raises(CIError, match=r"Operation\.Output\.Object is required"):
        Output("ap-guangzhou", "b-1250000000", " ").check()


def test_a_pic_template_keeps_its_name_and_needs_a_process_rule(store: Store) -> None:
    templates = TemplateService(store)
    request = {"Tag": "PicProcess", "Name": "thumb", "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/100x"}}
    created = templates.create(CTX, request)
    assert (created.tag, created.name, created.params) == ("PicProcess", "thumb", request["PicProcess"])
    with pytest.raises(CIError, match=r"PicProcess\.ProcessRule is required"):
        templates.create(CTX, {**request, "PicProcess": {"ProcessRule": ""}})


def test_animation_template_params_render_as_trans_tpl_and_animation(store: Store) -> None:
    templates = TemplateService(store)
    params = {"Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Width": "320"}}
    created = templates.create(CTX, {"Tag": "Animation", "Name": "small", **params})
    tree = template_tree(created, templates.params_names(created.tag))
    assert tree["TransTpl"] == params and tree["Animation"] == params


@pytest.mark.parametrize("level", ["²", "٢"])
def test_a_job_level_in_other_digits_is_refused_not_crashed(level: str) -> None:
    body = SUBMIT.replace(b"<JobLevel>2</JobLevel>", f"<JobLevel>{level}</JobLevel>".encode())
    with pytest.raises(CIError, match=r"Operation\.JobLevel must be 0, 1 or 2"):
        parse_submit_job(parse_request(body))


def test_a_list_size_in_other_digits_is_refused_not_crashed() -> None:
    with pytest.raises(CIError, match="size"):
        parse_job_filter({"size": "²"})


@pytest.mark.parametrize("name", ["pagenumber", "pagesize"])
def test_a_page_number_or_size_in_other_digits_is_refused_not_crashed(name: str) -> None:
    with pytest.raises(CIError, match="page"):
        page_params({name: "²"})
