"""The HTTP server under the app: uvicorn on h11, with framing errors answered as CI ``<Error>``s.

Requests the parser rejects (a bad or doubled Content-Length, a bad chunk size, headers past the
size limit, a broken request line) never reach the app; uvicorn answers them ``400 text/plain``.
The protocol below renders the same refusal as the ``<Error>`` document every SDK parses. h11 is
the parser uvicorn already used here (httptools is not installed), so this changes no request path:
only the reply to a request that could not be parsed.
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from wanxiang.api.app import new_request_id
from wanxiang.wire.xml import render


class CIErrorH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        error = sys.exc_info()[1]  # called from inside uvicorn's ``except h11.RemoteProtocolError``
        status = getattr(error, "error_status_hint", 400) if isinstance(error, h11.RemoteProtocolError) else 400
        if status not in HTTPStatus._value2member_map_ or not 400 <= status < 600:
            status = 400
        if self.cycle is not None and not self.cycle.response_complete:
            # The app may be running this request already: it now reads a disconnect, and whatever it
            # answers is dropped (this reply is the one the client gets).
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):  # a reply is under way: hang up
            self.transport.close()
            return
        request_id = new_request_id()
        detail = f": {error}" if error is not None and str(error) else ""
        body = render(
            "Error",
            {
                "Code": "InvalidRequest" if status != 431 else "RequestHeaderSectionTooLarge",
                "Message": f"The HTTP request could not be parsed{detail}.",
                "Resource": "/",
                "RequestId": request_id,
                "TraceId": request_id,
            },
        )
        headers = [
            (b"Content-Type", b"application/xml"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
            (b"x-ci-request-id", request_id.encode()),
            (b"Server", b"tencent-ci"),
        ]
        for event in (h11.Response(status_code=status, headers=headers, reason=HTTPStatus(status).phrase.encode()), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def server_config(app: Any, host: str, port: int) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=CIErrorH11Protocol,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
