"""Where the worker processes' metrics meet: chosen before ``prometheus_client`` is imported.

``prometheus_client`` decides at import whether values live in this process or in files shared by
many (``PROMETHEUS_MULTIPROC_DIR``). A process that spawns workers calls ``share_between_processes``
before importing anything that defines metrics; the children inherit the directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX = "wanxiang-metrics-"


def share_between_processes() -> Path:
    """Point this process and the ones it spawns at one empty metrics directory: a fresh temporary
    one, unless the operator named one (its files from an earlier run are removed)."""
    named = os.environ.get(MULTIPROC_ENV)
    if named:
        folder = Path(named)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink(missing_ok=True)
        return folder
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def remove_shared(folder: Path) -> None:
    """Remove the directory if this process made it."""
    if folder.parent == Path(tempfile.gettempdir()) and folder.name.startswith(_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
