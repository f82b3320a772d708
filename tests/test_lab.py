"""`make lab` serves JupyterLab with notebook 00 open, and the page fetches nothing from outside."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from workbook import loopback
from workbook.paths import repo_root

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make system)")


@pytest.fixture
def lab(tmp_path):
    port = loopback.free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token=workbook-test"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
            cwd=repo_root(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline and url is None:
            match = re.search(rf"(http://127\.0\.0\.1:{port}/lab\S*)\?token=", log.read_text())
            url = f"{match.group(1)}?token=workbook-test" if match else None
            if process.poll() is not None:
                pytest.fail(f"make lab exited early:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        assert url, f"no URL printed:\n{log.read_text()[-3000:]}"
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a kernel still shutting down: the test is over anyway
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def test_make_lab_opens_notebook_00_offline(lab):
    from playwright.sync_api import sync_playwright

    assert "/lab/tree/notebooks/00-orientation.ipynb" in lab
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on(
            "request",
            lambda request: (
                outside.append(request.url)
                if urlparse(request.url).hostname not in ("127.0.0.1", None)
                and request.url.startswith("http")
                else None
            ),
        )
        page.goto(lab, timeout=60_000)
        tab = page.locator(".lm-TabBar-tabLabel", has_text="00-orientation.ipynb")
        tab.first.wait_for(timeout=60_000)
        page.locator(".jp-Notebook .jp-MarkdownOutput").first.wait_for(timeout=60_000)
        settings = page.request.get(
            lab.split("/lab")[0] + "/lab/api/settings/@jupyterlab/apputils-extension:notification"
        ).json()
        browser.close()
    # The overrides become the schema's defaults (JupyterLab's own: fetchNews "none", checkForUpdates true).
    defaults = {name: spec.get("default") for name, spec in settings["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    assert outside == [], f"the page fetched from outside: {outside}"
