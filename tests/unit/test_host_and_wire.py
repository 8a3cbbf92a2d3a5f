"""Pure pieces of the wire: which bucket a Host names, the hardened XML parser, the renderer."""

from __future__ import annotations

import pytest

from wanxiang.api.host import parse_host
from wanxiang.model.errors import CIError
from wanxiang.wire.xml import parse_request, render


@pytest.mark.parametrize(
    ("host", "bucket", "region"),
    [
        ("test-1234567890.ci.ap-chongqing.myqcloud.com", "test-1234567890", "ap-chongqing"),
        ("test-1234567890.cos.ap-guangzhou.myqcloud.com", "test-1234567890", "ap-guangzhou"),
        ("test-1234567890.cos.ap-guangzhou.myqcloud.com:8080", "test-1234567890", "ap-guangzhou"),
        ("photos-1250000000.pic.ap-beijing.myqcloud.com", "photos-1250000000", "ap-beijing"),
        ("media-1250000000.example.internal", "media-1250000000", None),
        ("test-1250000000.localhost:8080", "test-1250000000", None),
        ("127.0.0.1:8080", None, None),
        ("localhost", None, None),
        ("[::1]:8080", None, None),
    ],
)
def test_the_bucket_comes_from_the_first_label_of_the_host(host: str, bucket: str | None, region: str | None) -> None:
    info = parse_host(host)
    assert (info.bucket_id, info.region) == (bucket, region)


def test_a_bare_ip_uses_the_configured_default_bucket() -> None:
    assert parse_host("127.0.0.1:8080", default_bucket="dev-1250000000").bucket_id == "dev-1250000000"


def test_request_parsing_keeps_repeats_and_ignores_namespaces_and_whitespace() -> None:
    body = b"""  <?xml version="1.0" encoding="utf-8"?>
    <Request xmlns="http://www.qcloud.com/document/product/436/7751">
      <Tag>PicProcess</Tag><Operation><Tag>A</Tag></Operation><Operation><Tag>B</Tag></Operation><Empty/>
    </Request>"""
    tree = parse_request(body)
    assert tree["Tag"] == "PicProcess"
    assert tree["Operation"] == [{"Tag": "A"}, {"Tag": "B"}]
    assert tree["Empty"] == ""


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Request><X>&b;</X></Request>',
        b'<!DOCTYPE r SYSTEM "http://example.com/evil.dtd"><Request/>',
        b'<Request><X>&unknown;</X></Request>',
        b"<Request><A><B>",
        b"<Wrong/>",
    ],
)
def test_dtds_entities_and_broken_documents_are_malformed_xml(body: bytes) -> None:
    with pytest.raises(CIError) as caught:
        parse_request(body)
    assert caught.value.status == 400 and caught.value.code == "MalformedXML"


def test_bodies_over_the_cap_and_deep_nesting_are_refused() -> None:
    with pytest.raises(CIError) as caught:
        parse_request(b"<Request>" + b"x" * 2000 + b"</Request>", max_bytes=1000)
    assert caught.value.code == "EntityTooLarge"
    deep = b"<Request>" + b"<a>" * 100 + b"</a>" * 100 + b"</Request>"
    with pytest.raises(CIError):
        parse_request(deep)


def test_render_repeats_lists_escapes_text_and_writes_empty_elements() -> None:
    xml = render("Response", {"JobsDetail": [{"JobId": "a"}, {"JobId": "b"}], "Message": "", "Text": "<&>"})
    assert b"<JobsDetail><JobId>a</JobId></JobsDetail><JobsDetail><JobId>b</JobId></JobsDetail>" in xml
    assert b"<Message/>" in xml and b"<Text>&lt;&amp;&gt;</Text>" in xml
    assert parse_request(xml, root="Response")["Text"] == "<&>"
