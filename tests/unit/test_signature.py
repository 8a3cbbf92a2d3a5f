"""The server accepts exactly what the official PySDK signs, and refuses what it should."""

from __future__ import annotations

import hashlib
import time
from base64 import b64encode
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_auth import CosS3Auth
from qcloud_cos.cos_comm import format_values

from wanxiang.api.signature import SignedRequest, parse_authorization, sign, verify
from wanxiang.model.errors import CIError

SECRET_ID = "AKIDexample"
SECRET_KEY = "skey"
BUCKET_HOST = "test-1250000000.cos.ap-guangzhou.myqcloud.com"


def secrets(secret_id: str) -> str | None:
    return {SECRET_ID: SECRET_KEY}.get(secret_id)


def as_received(prepared: requests.PreparedRequest) -> SignedRequest:
    """What a server sees on the wire: the path as sent, decoded query, latin-1 header values, a Host."""
    url = urlsplit(str(prepared.url))
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        headers[name] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    if not any(name.lower() == "host" for name in headers):
        headers["Host"] = url.netloc
    return SignedRequest(
        method=prepared.method or "GET",
        path=url.path,
        query=parse_qsl(url.query, keep_blank_values=True),
        headers=headers,
    )


def sdk_request(
    method: str,
    key: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    append: str = "",
    token: str | None = "tmp-token",
    ci_request: bool = True,
) -> SignedRequest:
    """Build and sign a request the way CosS3Client.send_request does in IP/Port mode."""
    conf = CosConfig(
        Region="ap-guangzhou",
        SecretId=SECRET_ID,
        SecretKey=SECRET_KEY,
        Token=token,
        IP="127.0.0.1",
        Port=8080,
        Scheme="http",
    )
    all_headers = dict(headers or {})
    all_headers["User-Agent"] = "cos-python-sdk-v5"
    if token is not None:
        all_headers["x-ci-security-token" if ci_request else "x-cos-security-token"] = token
    all_headers["Host"] = BUCKET_HOST
    signed_params = format_values(dict(params or {}))
    url = conf.uri(bucket="test-1250000000", path=key) + append
    prepared = requests.Request(
        method, url, params=signed_params, headers=format_values(all_headers), data=data
    ).prepare()
    CosS3Auth(conf, key, params=signed_params)(prepared)
    return as_received(prepared)


def with_authorization(request: SignedRequest, authorization: str) -> SignedRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    headers["Authorization"] = authorization
    return SignedRequest(request.method, request.path, request.query, headers)


def check(request: SignedRequest, *, now: float | None = None) -> str:
    return verify(request, secrets, now=time.time() if now is None else now)


# --- the reference's test vectors -----------------------------------------------------------------

VECTOR_TIME = "1795342004;1795352064"


def test_reference_vector_get_jobs_list_signs_host_without_port() -> None:
    request = SignedRequest(
        method="GET",
        path="/jobs",
        query=[("tag", "Animation"), ("nextToken", ""), ("size", "10"), ("queueId", "p1")],
        headers={"Host": "127.0.0.1:8080", "x-ci-security-token": "tok", "User-Agent": "x"},
    )
    authorization = sign(
        SignedRequest(
            request.method, request.path, request.query, {"host": "127.0.0.1", "x-ci-security-token": "tok"}
        ),
        SECRET_ID,
        SECRET_KEY,
        start=1795342004,
        end=1795352064,
    )
    fields = parse_authorization(authorization)
    assert fields["q-signature"] == "15f43556cbd2af4d62ccd2637d7dc34ba2468a59"
    assert fields["q-header-list"] == "host;x-ci-security-token"
    assert fields["q-url-param-list"] == "nexttoken;queueid;size;tag"
    # the wire Host carries :8080, the signature does not: the server must still accept it
    assert verify(with_authorization(request, authorization), secrets, now=1795342100) == SECRET_ID


def test_reference_vector_cancel_signs_the_decoded_path_and_not_the_bare_cancel() -> None:
    authorization = (
        f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-sign-time={VECTOR_TIME}&q-key-time={VECTOR_TIME}"
        "&q-header-list=content-length;host&q-url-param-list="
        "&q-signature=cb488b1ec3c528e837decc2a4a7da81079001547"
    )
    request = SignedRequest(
        method="PUT",
        path="/jobs/j1%2Cj2",
        query=[("cancel", "")],
        headers={"Host": "127.0.0.1:8080", "Content-Length": "0", "Authorization": authorization},
    )
    assert verify(request, secrets, now=1795342100) == SECRET_ID


# --- round trips with the official SDK ----------------------------------------------------------


def test_sdk_get_with_params_and_token_is_accepted() -> None:
    request = sdk_request(
        "GET", "/jobs", params={"tag": "Animation", "nextToken": "", "size": "10", "queueId": "p 1/x"}
    )
    fields = parse_authorization(request.headers["Authorization"])
    assert "x-ci-security-token" in fields["q-header-list"].split(";")
    assert check(request) == SECRET_ID


def test_sdk_put_with_cancel_appended_after_signing_is_accepted() -> None:
    request = sdk_request("PUT", "/jobs/j1,j2", append="?cancel")
    assert request.path == "/jobs/j1%2Cj2"
    assert ("cancel", "") in request.query
    assert check(request) == SECRET_ID


def test_sdk_post_with_body_and_content_md5_is_accepted() -> None:
    body = b"<Request><Tag>Animation</Tag></Request>"
    md5 = b64encode(hashlib.md5(body).digest()).decode()
    request = sdk_request(
        "POST",
        "/jobs",
        data=body,
        headers={"Content-MD5": md5, "Content-Type": "application/xml"},
        ci_request=False,
    )
    fields = parse_authorization(request.headers["Authorization"])
    assert {"content-md5", "content-type", "content-length", "x-cos-security-token"} <= set(
        fields["q-header-list"].split(";")
    )
    assert check(request) == SECRET_ID


def test_sdk_object_key_with_spaces_unicode_plus_and_comma_is_accepted() -> None:
    request = sdk_request("GET", "/相册/my photo+1,2 (v2)~.jpg", params={"ci-process": "originImage"})
    assert "%E7%9B%B8" in request.path and "+" not in request.path
    assert check(request) == SECRET_ID


def test_sdk_request_with_meta_header_in_utf8_is_accepted() -> None:
    request = sdk_request("PUT", "/a.jpg", headers={"x-cos-meta-title": "夏天"}, data=b"x")
    assert check(request) == SECRET_ID


def test_sdk_presigned_url_is_accepted_and_its_q_fields_are_not_signed_params() -> None:
    conf = CosConfig(
        Region="ap-guangzhou", SecretId=SECRET_ID, SecretKey=SECRET_KEY, IP="127.0.0.1", Port=8080
    )
    url = CosS3Client(conf).get_presigned_url(
        Bucket="test-1250000000", Key="out/result 1.gif", Method="GET", Params={"ci-process": "originImage"}
    )
    parts = urlsplit(url)
    request = SignedRequest(
        "GET", parts.path, parse_qsl(parts.query, keep_blank_values=True), {"Host": parts.netloc}
    )
    assert check(request) == SECRET_ID
    tampered = SignedRequest("GET", parts.path.replace("result", "other"), request.query, request.headers)
    assert refused(tampered).code == "SignatureDoesNotMatch"


# --- refusals -------------------------------------------------------------------------------------


def refused(request: SignedRequest, **kwargs: object) -> CIError:
    with pytest.raises(CIError) as caught:
        verify(request, kwargs.get("lookup", secrets), now=kwargs.get("now", time.time()))  # type: ignore[arg-type]
    assert caught.value.status == 403
    return caught.value


def test_wrong_secret_is_signature_does_not_match_and_shows_string_to_sign() -> None:
    request = sdk_request("GET", "/jobs", params={"size": "10"})
    error = refused(request, lookup=lambda _id: "another-key")
    assert error.code == "SignatureDoesNotMatch"
    assert "StringToSign: sha1\\n" in error.message


def test_unknown_secret_id_is_invalid_access_key_id() -> None:
    request = sdk_request("GET", "/jobs")
    assert refused(request, lookup=lambda _id: None).code == "InvalidAccessKeyId"


def test_expired_signature_is_access_denied_request_has_expired() -> None:
    request = sdk_request("GET", "/jobs")  # CosS3Auth signs for 10000 s
    error = refused(request, now=time.time() + 10000 + 900 + 60)
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_signature_from_the_future_is_request_time_too_skewed() -> None:
    request = sdk_request("GET", "/jobs")  # starts 60 s in the past
    assert refused(request, now=time.time() - 60 - 900 - 60).code == "RequestTimeTooSkewed"


def test_small_clock_skew_is_tolerated() -> None:
    request = sdk_request("GET", "/jobs")
    assert check(request, now=time.time() - 60 - 600) == SECRET_ID


def window_of(request: SignedRequest) -> tuple[int, int]:
    start, end = parse_authorization(request.headers["Authorization"])["q-sign-time"].split(";")
    return int(start), int(end)


def test_a_signature_that_ended_five_seconds_ago_is_expired() -> None:
    request = sdk_request("GET", "/jobs")
    _, end = window_of(request)
    assert check(request, now=end) == SECRET_ID
    error = refused(request, now=end + 5)
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_a_presigned_url_is_refused_one_and_a_half_seconds_after_it_expires() -> None:
    conf = CosConfig(Region="ap-guangzhou", SecretId=SECRET_ID, SecretKey=SECRET_KEY, IP="127.0.0.1", Port=8080)
    url = CosS3Client(conf).get_presigned_url(Bucket="test-1250000000", Key="a.jpg", Method="GET", Expired=30)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    request = SignedRequest("GET", parts.path, query, {"Host": parts.netloc})
    end = int(dict(query)["q-sign-time"].split(";")[1])
    assert check(request, now=end - 1) == SECRET_ID
    assert refused(request, now=end + 1.5).message == "Request has expired"


def test_clock_skew_is_allowed_before_the_start_only() -> None:
    now = int(time.time())
    base = SignedRequest("GET", "/jobs", [], {"host": BUCKET_HOST})
    authorization = sign(base, SECRET_ID, SECRET_KEY, start=now + 600, end=now + 700)
    ahead = with_authorization(base, authorization)
    assert check(ahead, now=now) == SECRET_ID  # the client clock runs 10 minutes ahead: tolerated
    assert refused(ahead, now=now - 400).code == "RequestTimeTooSkewed"  # 1000 s before the start
    assert refused(ahead, now=now + 701).message == "Request has expired"


def test_a_window_longer_than_seven_days_is_refused() -> None:
    now = int(time.time())
    base = SignedRequest("GET", "/jobs", [], {"host": BUCKET_HOST})
    week = 7 * 24 * 3600
    assert check(with_authorization(base, sign(base, SECRET_ID, SECRET_KEY, start=now - 60, end=now - 60 + week))) == SECRET_ID
    forever = with_authorization(base, sign(base, SECRET_ID, SECRET_KEY, start=now - 60, end=now + 10 * 365 * 86400))
    error = refused(forever)
    assert error.code == "AccessDenied" and "limit" in error.message
    two_hours = with_authorization(base, sign(base, SECRET_ID, SECRET_KEY, start=now - 60, end=now + 7200))
    assert check(two_hours) == SECRET_ID
    with pytest.raises(CIError):
        verify(two_hours, secrets, now=time.time(), max_window_seconds=3600)


def test_tampered_signed_param_is_signature_does_not_match() -> None:
    request = sdk_request("GET", "/jobs", params={"queueId": "p1", "size": "10"})
    tampered = SignedRequest(
        request.method, request.path, [("queueId", "p2"), ("size", "10")], request.headers
    )
    assert refused(tampered).code == "SignatureDoesNotMatch"


def test_repeated_signed_param_cannot_smuggle_a_second_value() -> None:
    request = sdk_request("GET", "/jobs", params={"queueId": "p1"})
    smuggled = SignedRequest(
        request.method, request.path, [*request.query, ("queueId", "p2")], request.headers
    )
    assert refused(smuggled).code == "SignatureDoesNotMatch"


def test_added_unsigned_param_is_still_valid() -> None:
    request = sdk_request("GET", "/jobs", params={"size": "10"})
    extended = SignedRequest(request.method, request.path, [*request.query, ("extra", "1")], request.headers)
    assert check(extended) == SECRET_ID


def test_missing_signed_header_is_signature_does_not_match() -> None:
    request = sdk_request("GET", "/jobs")
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-ci-security-token"}
    assert (
        refused(SignedRequest(request.method, request.path, request.query, headers)).code
        == "SignatureDoesNotMatch"
    )


def test_changed_path_is_signature_does_not_match() -> None:
    request = sdk_request("GET", "/jobs/j1")
    assert (
        refused(SignedRequest("GET", "/jobs/j2", request.query, request.headers)).code
        == "SignatureDoesNotMatch"
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "garbage",
        "q-sign-algorithm=sha1&q-ak=AKIDexample",
        "q-sign-algorithm=md5&q-ak=AKIDexample&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=ab",
        "q-sign-algorithm=sha1&q-ak=AKIDexample&q-sign-time=now&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=ab",
    ],
)
def test_malformed_authorization_is_access_denied(authorization: str) -> None:
    request = SignedRequest("GET", "/jobs", [], {"Host": "x", "Authorization": authorization})
    assert refused(request).code == "AccessDenied"


def test_missing_authorization_header_is_access_denied() -> None:
    assert refused(SignedRequest("GET", "/jobs", [], {"Host": "x"})).code == "AccessDenied"


def test_our_own_signer_round_trips_with_default_header_choice() -> None:
    base = SignedRequest(
        "GET",
        "/jobs/a%2Cb",
        [("size", "5")],
        {"Host": "ci.local:9000", "x-ci-security-token": "t", "Accept": "*/*"},
    )
    now = int(time.time())
    authorization = sign(base, SECRET_ID, SECRET_KEY, start=now - 60, end=now + 300)
    fields = parse_authorization(authorization)
    assert fields["q-header-list"] == "host;x-ci-security-token"
    assert check(with_authorization(base, authorization)) == SECRET_ID
