"""Issue 17, point 7: gunicorn never faces the network; a buffering proxy with timeouts and
the body limit stands in front of it in the compose file."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def _service(name: str) -> str:
    """The compose file's block for one service."""
    match = re.search(rf"^  {name}:\n(.*?)(?=^  \S|\Z)", COMPOSE, re.MULTILINE | re.DOTALL)
    assert match, name
    return match.group(1)


def _directive(name: str) -> str:
    values = re.findall(rf"^\s*{name}\s+([^;]+);", NGINX, re.MULTILINE)
    assert values, f"{name} is not set"
    return values[-1]


def test_gunicorn_is_reached_only_through_the_proxy():
    web = _service("web")
    assert "ports:" not in web
    proxy = _service("proxy")
    assert "nginx" in proxy and "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf" in proxy
    assert "proxy_pass http://learnertracking;" in NGINX and "server web:8000;" in NGINX


def test_the_proxy_times_out_slow_clients_and_buffers_whole_requests():
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        seconds = int(_directive(name).removesuffix("s"))
        assert 0 < seconds <= 30, name
    assert _directive("proxy_request_buffering") == "on"
    assert _directive("proxy_buffering") == "on"


def test_the_proxy_refuses_bodies_larger_than_the_app_accepts():
    size = _directive("client_max_body_size")
    assert size.endswith("m")
    assert int(size[:-1]) * 1024 * 1024 == settings.MAX_REQUEST_BYTES


def test_the_proxy_appends_the_client_address_the_app_counts_on():
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in NGINX
    assert "PROXY_COUNT=1" in (ROOT / ".env.example").read_text()


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="needs docker-compose")
def test_the_compose_file_with_its_proxy_is_valid():
    subprocess.run(
        ["docker-compose", "--env-file", ".env.example", "config", "--quiet"],  # noqa: S607
        cwd=ROOT,
        check=True,
    )


@pytest.mark.skipif(not shutil.which("nginx"), reason="needs nginx (apt install nginx-light)")
def test_nginx_accepts_the_proxys_configuration(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_slow_clients", ROOT / "bench" / "bench_slow_clients.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for name in ("body", "proxy"):
        (tmp_path / name).mkdir()
    config = bench.nginx_config(tmp_path, 18080, 18000)

    checked = subprocess.run(
        ["nginx", "-t", "-c", str(config)],  # noqa: S607
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stderr
