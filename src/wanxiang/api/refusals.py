"""Honest refusals: CI features wanxiang does not implement answer 501 NotImplemented, naming the
feature, instead of falling through to an object route and answering as if they had worked."""

from __future__ import annotations

from starlette.responses import Response

from wanxiang.api.request import ApiRequest
from wanxiang.api.router import Handler, Router
from wanxiang.model.unimplemented import not_implemented

# ci-process values wanxiang answers itself (compared case-insensitively); every other one is refused.
IMPLEMENTED_CI_PROCESSES = frozenset({"imageinspect"})

# CI routes of features not implemented: (methods, pattern, the feature's name). Only the paths
# that submit, list or change something: a route matches every method of its path (others get 405),
# so a per-id GET route would shadow objects under, say, ``image/auditing/``; such a GET already
# answers NoSuchKey, which is true, since no such job can have been submitted.
_AUDIT_TYPES = ("image", "video", "audio", "text", "document", "webpage", "live")
UNIMPLEMENTED_ROUTES: list[tuple[tuple[str, ...], str, str]] = [
    *[(("POST", "GET"), f"/{kind}/auditing", f"{kind} auditing (content moderation)") for kind in _AUDIT_TYPES],
    (("POST",), "/video/cancel_auditing/{job_id}", "video auditing (content moderation)"),
    (("POST", "GET"), "/virus/detect", "virus detection"),
    (("POST",), "/report/badcase", "auditing bad-case reports"),
    (("POST", "GET"), "/doc_jobs", "document processing jobs (doc_jobs)"),
    (("GET",), "/docqueue", "document processing queues"),
    (("PUT",), "/docqueue/{queue_id}", "document processing queues"),
    (("POST", "GET"), "/docbucket", "document processing buckets"),
    (("POST", "GET"), "/file_jobs", "file processing jobs (file_jobs)"),
    (("GET",), "/file_queue", "file processing queues"),
    (("PUT",), "/file_queue/{queue_id}", "file processing queues"),
    (("POST", "GET"), "/file_bucket", "file processing buckets"),
]


def register(router: Router) -> None:
    for methods, pattern, feature in UNIMPLEMENTED_ROUTES:
        for method in methods:
            router.add(method, pattern, _refuse(feature))


def _refuse(feature: str) -> Handler:
    def handler(_: ApiRequest) -> Response:
        raise not_implemented(feature)

    return handler


def check_object_request(req: ApiRequest) -> None:
    """An object request that asks for a ``ci-process`` wanxiang lacks is refused, not served."""
    for name, value in req.query:
        if name == "ci-process" and value.lower() not in IMPLEMENTED_CI_PROCESSES:
            raise not_implemented(f"ci-process={value}")
