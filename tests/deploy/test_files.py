"""deploy/: the compose file and the systemd units run the same commands the deployment test
runs as real processes, and the proxy keeps no log of the members' /testimony pages."""

from __future__ import annotations

import configparser
import os
import re
import runpy
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
VENV_BIN = "/srv/napo/app/.venv/bin/"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def exec_start(name: str) -> list[str]:
    argv = shlex.split(unit(name)["Service"]["ExecStart"])
    return [arg.removeprefix(VENV_BIN) for arg in argv]


def test_compose_runs_every_piece(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "scheduler", "proxy"}
    assert services["db"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "scheduler" in services and "deploy" not in services["scheduler"]  # exactly one
    for name in ("web", "worker", "scheduler", "migrate"):
        environment = services[name]["environment"]
        assert environment["NAPO_CONFIG"] == "production"
        assert environment["NAPO_REDIS_URL"].startswith("redis://")
        assert environment["NAPO_PROXY_COUNT"] == "1"


def test_compose_and_systemd_run_the_same_commands(compose):
    services = compose["services"]
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert services["web"]["command"][-1] == exec_start("napo-tracker-web.service")[-1] == "wsgi:app"
    assert exec_start("napo-tracker-web.service") == ["gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    assert exec_start("napo-tracker-worker@.service")[:5] == services["worker"]["command"]
    assert exec_start("napo-tracker-scheduler.service") == services["scheduler"]["command"]
    migrate = unit("napo-tracker-web.service")["Service"]["ExecStartPre"]
    assert shlex.split(migrate)[1:] == services["migrate"]["command"][1:]
    for name in ("napo-tracker-web.service", "napo-tracker-worker@.service", "napo-tracker-scheduler.service"):
        service = unit(name)["Service"]
        assert service["User"] == "napo" and service["EnvironmentFile"] == "/etc/napo-tracker/env"
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"


def test_the_proxy_logs_nothing_of_the_testimony_pages():
    template = (DEPLOY / "nginx" / "napo-tracker.conf.template").read_text()
    servers = template.split("\nserver {")[1:]
    assert len(servers) == 2  # plain HTTP (sent on to HTTPS) and HTTPS
    for server in servers:
        block = re.search(r"location /testimony \{(.*?)\}", server, re.S)
        assert block is not None
        assert "access_log off;" in block.group(1) and "error_log /dev/null;" in block.group(1)
    https = servers[1]
    assert "ssl_certificate " in https and "listen 443 ssl;" in https
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in https  # never the client's own header
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in https


def test_gunicorn_hands_its_worker_count_to_the_app(monkeypatch):
    monkeypatch.setenv("NAPO_WORKERS", "3")
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert settings["workers"] == 3 and settings["accesslog"] is None
    assert settings["control_socket_disable"] is True
    settings["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=5)))  # `-w 5` on the command line
    assert os.environ["NAPO_WORKERS"] == "5"
