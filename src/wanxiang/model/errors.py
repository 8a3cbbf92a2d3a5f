"""CI error codes and the exceptions that carry them to the wire or to a Failed job."""

from __future__ import annotations


class CIError(Exception):
    """A request the service refuses: rendered as ``<Error>`` with this status and Code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid_argument(message: str) -> CIError:
    return CIError(400, "InvalidArgument", message)


def malformed_xml(message: str = "The XML you provided was not well-formed.") -> CIError:
    return CIError(400, "MalformedXML", message)


def access_denied(message: str) -> CIError:
    return CIError(403, "AccessDenied", message)


def not_found(code: str, message: str) -> CIError:
    return CIError(404, code, message)


class JobFailure(Exception):
    """A job that cannot run: it ends ``Failed`` with this Code and Message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class JobCancelled(Exception):
    """A user asked the running job to stop: raised out of the engine between its steps (through
    ``JobIO.progress`` or ``JobIO.write_object``); the job ends ``Cancel`` with no output."""
