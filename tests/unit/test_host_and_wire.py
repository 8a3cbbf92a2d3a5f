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


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Request><Tag>&lol9;</Tag></Request>"""


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        (BILLION_LAUGHS, "DTDForbidden"),
        (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request><A>&x;</A></Request>', "DTDForbidden"),
        (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://example.com/p.dtd"> %p;]><Request/>', "DTDForbidden"),
        (b'<?xml version="1.0" standalone="no"?><!DOCTYPE r PUBLIC "-//x//y" "http://example.com/r.dtd"><Request/>',
         "DTDForbidden"),
    ],
)
def test_a_billion_laughs_body_is_refused_by_the_new_parser(body: bytes, refusal: str) -> None:
    # Refused at the DOCTYPE, before any entity is declared, let alone expanded or fetched.
    with pytest.raises(CIError) as caught:
        parse_request(body)
    assert caught.value.code == "MalformedXML"
    assert caught.value.message == f"The XML may not contain a DTD or entities ({refusal})."


def test_request_parsing_reads_cdata_references_comments_and_declared_encodings() -> None:
    body = b"<Request><A>x<!-- note -->y</A><B><![CDATA[<&>]]></B><C>&amp;&#x41;&#65;</C><?pi ok?></Request>"
    assert parse_request(body) == {"A": "xy", "B": "<&>", "C": "&AA"}
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?><Request><A>caf\xe9</A></Request>'
    assert parse_request(latin) == {"A": "caf\u00e9"}
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><Request><A>\u4e07\u8c61</A></Request>'.encode("utf-16")
    assert parse_request(utf16) == {"A": "\u4e07\u8c61"}


def test_user_data_keeps_its_spaces_and_text_beside_child_elements_is_ignored() -> None:
    body = b"<Request><UserData>  kept \n</UserData><Name>  trimmed \n</Name><A>before<B>1</B>after</A></Request>"
    assert parse_request(body) == {"UserData": "  kept \n", "Name": "trimmed", "A": {"B": "1"}}


def test_nesting_at_the_cap_is_read_and_one_deeper_is_refused() -> None:
    at_cap = b"<Request>" + b"<a>" * 32 + b"x" + b"</a>" * 32 + b"</Request>"
    tree: object = parse_request(at_cap)
    for _ in range(31):
        assert isinstance(tree, dict)
        tree = tree["a"]
    assert tree == {"a": "x"}
    with pytest.raises(CIError) as caught:
        parse_request(b"<Request>" + b"<a>" * 33 + b"</a>" * 33 + b"</Request>")
    assert caught.value.message == "The XML nests deeper than 32 levels."


def test_an_unbound_prefix_or_a_second_root_is_malformed() -> None:
    for body in (b"<Request><b:B>2</b:B></Request>", b"<Request/><Request/>"):
        with pytest.raises(CIError) as caught:
            parse_request(body)
        assert caught.value.message.startswith("The XML you provided was not well-formed: ")
