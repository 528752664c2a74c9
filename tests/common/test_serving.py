"""`gridgov serve`: the server's settings come from the environment, bad values are refused with a
message naming the variable (before anything starts), and the server it starts answers over
HTTP with keep-alive, the security headers and the app's 404s (the crash-recovery test drives the
same server through intake under SIGKILL)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gridgov.common import serving

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_every_setting_from_the_environment() -> None:
    opts = serving.options_from_env(
        {
            "GRIDGOV_BIND": "0.0.0.0:9000",
            "GRIDGOV_WORKERS": "3",
            "GRIDGOV_THREADS": "6",
            "GRIDGOV_ACCESS_LOG": "/var/log/gridgov/access.log",
            "GRIDGOV_WORKER_MAX_RSS": "1024",
            "GRIDGOV_WORKER_LIFETIME": "3600",
            "GRIDGOV_BACKLOG": "256",
            "GRIDGOV_WARM_CACHES": "0",
        }
    )
    assert (opts.host, opts.port, opts.workers, opts.threads) == ("0.0.0.0", 9000, 3, 6)
    assert opts.access_log == "/var/log/gridgov/access.log"
    assert (opts.max_rss_mb, opts.lifetime, opts.backlog, opts.warm) == (1024, 3600, 256, False)


def test_its_defaults_follow_the_machine() -> None:
    opts = serving.options_from_env({})
    assert (opts.host, opts.port) == ("127.0.0.1", 8000)
    assert opts.workers == (os.cpu_count() or 1)
    assert opts.threads == 4
    assert opts.access_log == "-"
    assert (opts.max_rss_mb, opts.lifetime, opts.warm) == (2048, None, True)


def test_the_command_line_bind_wins_over_the_environment() -> None:
    opts = serving.options_from_env({"GRIDGOV_BIND": "0.0.0.0:9000"}, bind="127.0.0.1:8123")
    assert (opts.host, opts.port) == ("127.0.0.1", 8123)


@pytest.mark.parametrize("value", ["off", "0", "/dev/null", ""])
def test_it_turns_the_access_log_off(value: str) -> None:
    assert serving.options_from_env({"GRIDGOV_ACCESS_LOG": value}).access_log == ""


@pytest.mark.parametrize(
    ("env", "bind", "message"),
    [
        ({"GRIDGOV_WORKERS": "two"}, None, "GRIDGOV_WORKERS must be a whole number"),
        ({"GRIDGOV_WORKERS": "0"}, None, "GRIDGOV_WORKERS must be at least 1"),
        ({"GRIDGOV_THREADS": "-1"}, None, "GRIDGOV_THREADS must be at least 1"),
        ({"GRIDGOV_WORKER_LIFETIME": "30"}, None, "GRIDGOV_WORKER_LIFETIME must be 0 (never) or at least 60"),
        ({}, "localhost", "bind must be HOST:PORT"),
        ({}, "127.0.0.1:99999", "bind must be HOST:PORT"),
    ],
)
def test_it_refuses_bad_settings_by_name(env: dict[str, str], bind: str | None, message: str) -> None:
    with pytest.raises(serving.ServeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        serving.options_from_env(env, bind=bind)


def test_the_command_refuses_bad_settings_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(serving, "serve", started.append)
    with pytest.raises(CommandError, match="GRIDGOV_THREADS must be at least 1"):
        call_command("serve", "--threads", "0")
    assert started == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_server_answers_over_keep_alive_with_the_security_headers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "GRIDGOV_ACCESS_LOG": str(tmp_path / "access.log"),
    }
    log = (tmp_path / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                first = conn.getresponse()
                first.read()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.2)
        assert first.status == 200
        # The same connection again: keep-alive, and a 404 from the app with its headers.
        conn.request("GET", "/no-such-page/")
        second = conn.getresponse()
        body = second.read()
        assert second.status == 404, body[:200]
        assert "script-src 'self'" in (second.getheader("Content-Security-Policy") or "")
        assert second.getheader("X-Content-Type-Options") == "nosniff"
        conn.close()
        deadline = time.monotonic() + 10
        while "/no-such-page/" not in (tmp_path / "access.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "404" in (tmp_path / "access.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, (tmp_path / "server.log").read_text()[-2000:]
