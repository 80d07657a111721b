#!/usr/bin/env python
"""Slow clients: gunicorn alone against gunicorn behind the compose file's nginx.

Starts gunicorn as the compose file does (gthread), with few threads so that the effect
shows quickly, on a throw-away SQLite database; opens SLOW connections that send a request's
headers and then dribble its body a byte a second; and times a normal request meanwhile,
straight to gunicorn and through nginx run with deploy/nginx.conf (its TLS server made plain
HTTP on loopback, its upstream pointed at this gunicorn). Needs nginx (apt install
nginx-light). Usage: `.venv/bin/python bench/bench_slow_clients.py [--slow 10]`.
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def nginx_config(folder: Path, listen: int, upstream: int) -> Path:
    """deploy/nginx.conf, its directives as shipped; only the addresses and TLS differ."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text = text.replace("server web:8000;", f"server 127.0.0.1:{upstream};")
    # Drop the plain-HTTP redirect server; serve the main one without TLS on loopback.
    text = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", text, count=1, flags=re.DOTALL)
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen};")
    text = re.sub(r"^\s*(http2|ssl_\w+) [^;]*;\n", "", text, flags=re.MULTILINE)
    config = folder / "nginx.conf"
    config.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n{text}\n}}\n"
    )
    return config


def slow_client(port: int, stop: threading.Event) -> None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        )
        while not stop.is_set():
            sock.sendall(b"a")
            stop.wait(1)
        sock.close()
    except OSError:
        pass


def timed_request(port: int) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/accounts/login/", headers={"Host": "localhost"})
        connection.getresponse().read()
    except OSError:
        return float("inf")
    finally:
        connection.close()
    return time.perf_counter() - started


def measure(port: int, slow: int) -> tuple[float, float]:
    before = timed_request(port)
    stop = threading.Event()
    clients = [threading.Thread(target=slow_client, args=(port, stop)) for _ in range(slow)]
    for client in clients:
        client.start()
    time.sleep(2)
    during = timed_request(port)
    stop.set()
    for client in clients:
        client.join(5)
    return before, during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", type=int, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("nginx"):
        raise SystemExit("needs nginx: apt install nginx-light")
    folder = Path(tempfile.mkdtemp(prefix="lt-bench-slow-"))
    for name in ("body", "proxy"):
        (folder / name).mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "DEBUG": "1",
        "SECRET_KEY_FILE": f"{folder}/secret_key",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    app, proxy = free_port(), free_port()
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "learnertracking.wsgi:application",
            "--bind",
            f"127.0.0.1:{app}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = subprocess.Popen(
        ["nginx", "-c", str(nginx_config(folder, proxy, app)), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(app)
        wait_for(proxy)
        direct = measure(app, args.slow)
        proxied = measure(proxy, args.slow)
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(10)
        gunicorn.wait(10)
    print(
        f"gunicorn, 1 worker with {args.threads} threads; {args.slow} clients dribbling a "
        "request body a byte a second; a sign-in page requested meanwhile:"
    )
    for name, (before, during) in (("gunicorn alone", direct), ("behind nginx", proxied)):
        shown = "no answer in 30 s" if during == float("inf") else f"{during * 1000:.0f} ms"
        print(f"{name:>15}: {before * 1000:.0f} ms before, {shown} with the slow clients")


if __name__ == "__main__":
    main()
