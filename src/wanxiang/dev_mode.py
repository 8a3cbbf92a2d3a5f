"""``serve --dev`` (the default of ``make run``) and ``--strict``, ``--seed DIR``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from wanxiang.config import DEV_SECRET_ID, DEV_SECRET_KEY

if TYPE_CHECKING:
    from wanxiang.app import App

BANNER = (
    "Dev mode: the published development credentials are accepted (never expose this server):\n"
    f"  SecretId:  {DEV_SECRET_ID}\n  SecretKey: {DEV_SECRET_KEY}\n"
    "  POST /-/reset, /-/test-mode and /-/jobs/<id>/advance are on; --strict turns them off."
)


def add_arguments(serve: argparse.ArgumentParser) -> None:
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument(
        "--dev",
        dest="dev",
        action="store_true",
        default=os.environ.get("WANXIANG_DEV") == "1",
        help="local stand-in: published credentials, reset and test-mode endpoints (WANXIANG_DEV=1)",
    )
    mode.add_argument("--strict", dest="dev", action="store_false", help="self-hosting (the default): none of that")
    serve.add_argument("--seed", metavar="DIR", help="load DIR/<bucket>/<key> files as objects at start")


def seed_app(app: App, root: Path) -> str:
    loaded = app.dev.seed(root)
    buckets = sorted({item.bucket for item in loaded})
    return f"Seeded {len(loaded)} object(s) from {root} into {len(buckets)} bucket(s): {', '.join(buckets)}"
