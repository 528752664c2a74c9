"""Browser tests (`make test-e2e`): the app under `gridgov serve` (granian) on a free port with a fresh SQLite database
and the demo data, driven by Playwright through Debian's chromium (no `playwright install`).
A failing test leaves a full-page screenshot in test-results/.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "test-results"
PASSWORD = "Gridgov#2026"  # README.md: every demo account
DEMO_TOTP_SECRET = "GRIDGOVDEMOKEYFORTOTPTWOFACTOR23"  # README.md: admin, leader, town_leader
CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

FACTS = """
import django, json
django.setup()
from gridgov.accounts.models import User
from gridgov.registers.models import House
gw = User.objects.get(username="grid_worker")
house = House.objects.filter(region_path__startswith=gw.jurisdiction.path, residents__isnull=True).order_by("pk").first()
print(json.dumps({"grid_code": gw.jurisdiction.code, "grid_name": gw.jurisdiction.name, "house": house.pk}))
"""


@dataclass
class App:
    base: str
    facts: dict
    env: dict[str, str]

    def query(self, code: str, *args: str) -> dict:
        """Run a snippet against the app's database (never the developer's) and read its JSON."""
        out = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    work = tmp_path_factory.mktemp("e2e")
    # For iterating on the journeys: GRIDGOV_E2E_DB=<a demo SQLite file> skips migrate + load_demo.
    reuse = os.environ.get("GRIDGOV_E2E_DB")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{reuse or work / 'e2e.sqlite3'}",
        GRIDGOV_MEDIA_ROOT=str(work / "media"),
        GRIDGOV_LOG_LEVEL="ERROR",
    )
    env.pop("GRIDGOV_DEBUG", None)
    manage = [sys.executable, "manage.py"]
    if not reuse:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run([*manage, "load_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    facts = App(base="", facts={}, env=env).query(FACTS)
    port = _free_port()
    log = (work / "server.log").open("ab")
    proc = subprocess.Popen(
        [str(BIN / "python"), "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not start: " + (work / "server.log").read_text()[-2000:])
        yield App(base=base, facts=facts, env=env)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    for old in RESULTS.glob("*.png"):  # screenshots of an earlier run
        old.unlink()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator:
    """new_page() → a page in a fresh browser context (its own cookies: one person). Every page
    of a failing test is saved to test-results/<test>-<n>.png."""
    contexts = []

    def make() -> Page:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed
    for i, ctx in enumerate(contexts):
        if failed:
            RESULTS.mkdir(exist_ok=True)
            for j, page in enumerate(ctx.pages):
                page.screenshot(path=str(RESULTS / f"{request.node.name}-{i}-{j}.png"), full_page=True)
        ctx.close()


def login(page: Page, app: App, username: str, *, totp: bool = False) -> None:
    page.goto(app.base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if totp:
        page.wait_for_url("**/login/verify/**")
        page.fill("input[name=code]", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login" not in page.url, page.content()[:2000]
