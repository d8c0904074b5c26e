"""A real moto server on loopback for the deploy tests, and what they need around it.

The deploy tool is driven as a user drives it (its own process, --endpoint-url) against moto's
threaded HTTP server, which runs inside the test process so that tests can read and seed it.
"""

from __future__ import annotations

import http.server
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.support import REPO_ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# No file or instance metadata may lend real credentials to a test.
ISOLATED_AWS_ENVIRONMENT = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_DEFAULT_REGION": REGION,
                            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                            "AWS_EC2_METADATA_DISABLED": "true"}


class MotoServer:
    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=30).raise_for_status()

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            config=NO_RETRIES, **{k.lower(): v for k, v in
                                                  TEST_CREDENTIALS.items()})

    def seed_athena_results(self, results: list[list[str] | None]) -> None:
        """Queue Athena results, consumed one per started query in order (None: no rows)."""
        payload = {"account_id": ACCOUNT, "region": REGION, "results": [
            {"rows": [] if values is None else
             [{"Data": [{"VarCharValue": "_col0"}]}] + [{"Data": [{"VarCharValue": v}]}
                                                        for v in values]}
            for values in results]}
        requests.post(f"{self.url}/moto-api/static/athena/query-results", json=payload,
                      timeout=30).raise_for_status()

    def athena_queries(self) -> list[str]:
        """Every query Athena received, in the order they started."""
        athena = self.client("athena")
        ids = athena.list_query_executions()["QueryExecutionIds"]
        return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"]
                for i in ids]

    def run_cli(self, module: str, *arguments: str, credentials: bool = True,
                endpoint_url: str | None = None) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("AWS_")}
        environment.update(ISOLATED_AWS_ENVIRONMENT)
        if credentials:
            environment.update(TEST_CREDENTIALS)
        return subprocess.run([sys.executable, "-m", module, *arguments,
                               "--endpoint-url", endpoint_url or self.url], cwd=REPO_ROOT,
                              env=environment,
                              capture_output=True, text=True, timeout=300)


def relative_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- a flaky network in front of the server -------------------------------------------------------

def request_kind(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The AWS operation of a request as it travels: JSON protocols name it in X-Amz-Target,
    IAM's query protocol in the body, S3 by method and path."""
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    action = re.search(rb"(?:^|&)Action=(\w+)", body)
    if action:
        return action.group(1).decode()
    if method == "GET" and "list-type=2" in path:
        return "ListObjectsV2"
    has_key = "/" in path.split("?", 1)[0].strip("/")
    return {("PUT", True): "PutObject", ("HEAD", True): "HeadObject"}.get((method, has_key), "")


class FlakyProxy:
    """A proxy on loopback that forwards to ``target`` but answers the first request of each
    operation in ``fail_with_503`` with 503 Service Unavailable, and drops the connection of
    the first request of each operation in ``drop_connection`` without an answer: what a
    client's retries must survive. ``injected`` lists what it did, in order."""

    def __init__(self, target: str, fail_with_503: set[str], drop_connection: set[str]) -> None:
        self.target = target
        self.pending = {**{k: "503" for k in fail_with_503},
                        **{k: "dropped" for k in drop_connection}}
        self.injected: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = request_kind(self.command, self.path, dict(self.headers), body)
                with proxy.lock:
                    failure = proxy.pending.pop(kind, None)
                    if failure:
                        proxy.injected.append((kind, failure))
                if failure == "dropped":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if failure == "503":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = requests.request(self.command, proxy.target + self.path, data=body,
                                          headers=dict(self.headers), timeout=60,
                                          allow_redirects=False)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection",
                                            "content-encoding", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
