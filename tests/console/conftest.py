"""Console fixtures: the real app over SQLite and a local folder, in process (HTTP-level tests),
and one headless Chromium for the browser tests."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.storage.registry import open_storage
from wanxiang.store.store import Store

ADMIN = ("AKIDconsoleadmin000000000000000", "admin-secret-key")
VIEWER = ("AKIDconsoleviewer00000000000000", "viewer-secret-key")
BUCKET = "photos-1250000000"
CSRF_FIELD = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class ConsoleApp:
    client: Any  # starlette TestClient
    deps: App
    store: Store

    def sign_in(self, pair: tuple[str, str] = ADMIN) -> None:
        response = self.client.post("/-/console/login", data={"secret_id": pair[0], "secret_key": pair[1]},
                                    follow_redirects=False)
        assert response.status_code == 303, response.text

    def csrf(self, path: str = f"/-/console/b/{BUCKET}/queues") -> str:
        found = CSRF_FIELD.search(self.client.get(path).text)
        assert found, "no CSRF token on the page"
        return found.group(1)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[ConsoleApp]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx is what the project has
        from starlette.testclient import TestClient
    settings = Settings(data_dir=tmp_path, workers=2, credentials=dict([ADMIN, VIEWER]),
                        read_only_ids=frozenset({VIEWER[0]}))
    store = Store.open(f"sqlite:///{tmp_path / 'wanxiang.db'}")
    deps = App.build(settings, store, open_storage(f"local:{tmp_path / 'objects'}"))
    try:
        with TestClient(deps.http(), base_url="http://127.0.0.1:8080") as client:
            yield ConsoleApp(client, deps, store)
    finally:
        deps.close()  # the image pool and the store


def chromium_path() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium (Debian's, driven by playwright) for the whole session."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (make system-deps / .ci/run install it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where page screenshots go (WANXIANG_SCREENSHOTS names a folder to keep them)."""
    import os

    kept = os.environ.get("WANXIANG_SCREENSHOTS")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        return Path(kept)
    return tmp_path_factory.mktemp("console-screenshots")
