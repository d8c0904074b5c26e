"""A real moto server on loopback for the deploy tests, and what they need around it.

The deploy tool is driven as a user drives it (its own process, --endpoint-url) against moto's
threaded HTTP server, which runs inside the test process so that tests can read and seed it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
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

    def start(self) -> "MotoServer":
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

    def run_cli(self, module: str, *arguments: str, credentials: bool = True
                ) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("AWS_")}
        environment.update(ISOLATED_AWS_ENVIRONMENT)
        if credentials:
            environment.update(TEST_CREDENTIALS)
        return subprocess.run([sys.executable, "-m", module, *arguments,
                               "--endpoint-url", self.url], cwd=REPO_ROOT, env=environment,
                              capture_output=True, text=True, timeout=300)


def relative_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
