"""Shared fixtures: one generated fixture world per session, an isolated Prefect home."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything imports prefect or presidio: no network, no shared state with the user's setup.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="piiscan-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server needs about 8 s; on a busy 2-core machine it can take longer than 20.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("PIISCAN_LAKE", None)
# The clock is pinned (piiscan.lake.clock reads PIISCAN_NOW) and the time zone is one far from UTC,
# so no test depends on today's date or the machine's zone; a test that needs another time sets it.
os.environ["PIISCAN_NOW"] = "2026-11-28T09:00:00Z"
os.environ["TZ"] = "Pacific/Kiritimati"  # UTC+14: local dates differ from UTC ones most hours
time.tzset()
# Keys for the configured customers live in a throwaway folder, never in the repository.
os.environ["PIISCAN_KEYS_DIR"] = tempfile.mkdtemp(prefix="piiscan-keys-")

# Prefect logs "Stopping temporary server" at interpreter exit, after pytest closed its streams.
logging.raiseExceptions = False

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


@pytest.fixture(scope="session")
def fixture_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small fixture world: three customers, two bill cycles, every layout and the broken set."""
    from piiscan.testing.generate import generate

    root = tmp_path_factory.mktemp("fixtures")
    generate(root, customers=3, months=2, lines=6, seed=11, events_per_line=15)
    return root


@pytest.fixture(scope="session")
def expected(fixture_tree: Path) -> list[dict[str, Any]]:
    """The generator's expectations for fixture_tree."""
    data: list[dict[str, Any]] = json.loads((fixture_tree / "expected.json").read_text())
    return data


@pytest.fixture(scope="session")
def config() -> Any:
    """The repository's configuration."""
    from piiscan.policy import load_config

    return load_config(CONFIGS)


@pytest.fixture(scope="session", autouse=True)
def customer_keys() -> Path:
    """A key file per configured customer in PIISCAN_KEYS_DIR."""
    from piiscan.lake.keyring import create_key

    folder = Path(os.environ["PIISCAN_KEYS_DIR"])
    for customer in ("acme", "globex", "initech"):
        create_key(customer, folder)
    return folder


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A SeaweedFS S3 server for the session; boto3's environment points at it meanwhile."""
    from .seaweed import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    saved = {k: os.environ.get(k) for k in server.env}
    os.environ.update(server.env)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A real headless Chromium for one test module. Module scope on purpose: Playwright's sync
    API keeps an event loop running in this thread while the browser is open, and Prefect
    called with a running loop returns coroutines (later modules' flows would break)."""
    from .chromium import launched

    with launched() as running:
        yield running
