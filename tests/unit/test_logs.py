"""The log line formats, and the scrubber every line passes through."""

from __future__ import annotations

import json
import logging

from wanxiang.ops.logs import JsonFormatter, TextFormatter, add_secrets, scrub


def _record(message: str, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("wanxiang.test", logging.INFO, __file__, 1, message, None, None)
    record.fields = fields
    return record


def test_a_signature_in_an_authorization_header_or_a_presigned_url_is_scrubbed() -> None:
    header = "q-sign-algorithm=sha1&q-ak=AKIDx&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-signature=0123abcd"
    assert "0123abcd" not in scrub(f"Authorization: {header}")
    assert "0123abcd" not in scrub(f"GET /a.png?{header}")
    assert "x-cos-security-token=***" in scrub("GET /a?x-cos-security-token=TOKENVALUE")


def test_a_known_secret_key_never_reaches_a_line() -> None:
    add_secrets(["wanxiang-unit-secret-key-value"])
    line = TextFormatter().format(_record("oops", detail="key wanxiang-unit-secret-key-value leaked"))
    assert "wanxiang-unit-secret-key-value" not in line and "***" in line


def test_json_lines_are_one_object_with_the_fields() -> None:
    line = JsonFormatter().format(_record("job finished", job_id="j1", state="Success", duration_s=0.5, code=None))
    assert "\n" not in line
    body = json.loads(line)
    assert body["message"] == "job finished" and body["job_id"] == "j1" and body["duration_s"] == 0.5
    assert "code" not in body and body["level"] == "INFO" and body["time"].endswith("Z")


def test_text_lines_quote_values_with_spaces() -> None:
    line = TextFormatter().format(_record("job finished", job_message="no such object", code="InputObjectNotExist"))
    assert 'job_message="no such object" code=InputObjectNotExist' in line
