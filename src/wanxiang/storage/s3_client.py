"""The boto3 client an S3Storage speaks through, with the store's own failures raised as OSError.

An unreachable store, a timeout, a broken stream or a 5xx answer is not the request's fault: as
``StoreUnavailable`` (an OSError) the API answers it 503 ServiceUnavailable, as it does a full disk,
and a download cut mid-stream ends short instead of crashing. 4xx answers stay botocore's
``ClientError`` for the backend to read (NoSuchKey, PreconditionFailed...).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from wanxiang.storage.s3_config import S3Config


class StoreUnavailable(OSError):
    def __init__(self, reason: str) -> None:
        super().__init__(errno.EIO, f"the S3 store failed ({reason})")


def open_client(config: S3Config) -> Any:
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint,
        region_name=config.region,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        config=Config(
            s3={"addressing_style": config.addressing_style},
            max_pool_connections=32,
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3},
            # Checksums only where S3 insists: ours is the MD5 (ETag); a CRC pass would read twice.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return GuardedClient(client)


class GuardedClient:
    """The boto3 client's calls, with store failures as ``StoreUnavailable``."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in ("get_paginator", "generate_presigned_url", "meta") or not callable(attribute):
            return attribute
        return guarded(attribute)


def guarded(call: Callable[..., Any]) -> Callable[..., Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except BotoCoreError as error:
            raise StoreUnavailable(type(error).__name__) from error
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500:
                raise StoreUnavailable(f"{status} {error.response.get('Error', {}).get('Code', '')}") from error
            raise

    return run
