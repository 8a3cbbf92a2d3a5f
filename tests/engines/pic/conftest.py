"""Fixtures for the PicProcess tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pic_folder_io import FolderIO


@pytest.fixture
def folder_io(tmp_path: Path) -> FolderIO:
    return FolderIO(tmp_path, "examplebucket-1250000000", "ap-chongqing", "photos/in.jpg")
