"""Prefect's overhead on a nightly run: the `nightly` flow (ephemeral server) against calling the
pipeline functions directly, over the same staged fixtures, each in a fresh process.

    .venv/bin/python benchmarks/flow_overhead.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLOW = """
from flows.nightly import nightly
state = nightly(lake={lake!r}, config_dir="configs", return_state=True)
assert state.is_completed(), state
"""
DIRECT = """
from datetime import UTC, datetime
from flows.common import customer_key
from piiscan.pipeline.scan import detector_for
from piiscan.lake.keys import new_run_id
from piiscan.pipeline.nightly import run_customer
from piiscan.policy import load_config
from piiscan.storage import open_lake
config, storage, run_id = load_config("configs"), open_lake({lake!r}), new_run_id(datetime.now(UTC))
for customer in config.customers:
    run_customer(storage, config, customer, run_id, datetime.now(UTC), customer_key(customer.id),
                 detector_for(config, customer.id))
"""


def staged_lake(root: Path) -> Path:
    """A lake whose landing zone holds the committed fixture sample."""
    lake = root / "template"
    code = (
        "from pathlib import Path; from piiscan.testing.stage import stage_fixtures; "
        "from piiscan.storage import LocalStorage; "
        f"stage_fixtures(LocalStorage({str(lake)!r}), Path('fixtures/sample'))"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    return lake


def timed(code: str, lake: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code.format(lake=str(lake))],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piiscan-overhead-") as tmp:
        root = Path(tmp)
        template = staged_lake(root)
        keys = root / "keys"
        for customer in ("acme", "globex", "initech"):
            subprocess.run(
                [
                    str(REPO / ".venv/bin/piiscan"),
                    "keys",
                    "create",
                    "-c",
                    customer,
                    "--keys",
                    str(keys),
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        env = {
            **os.environ,
            "PIISCAN_KEYS_DIR": str(keys),
            "PREFECT_HOME": str(root / "ph"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        }
        env.pop("PREFECT_API_URL", None)
        samples: dict[str, list[float]] = {"flow": [], "direct": []}
        for round_ in range(args.repeat):
            order = ["flow", "direct"] if round_ % 2 == 0 else ["direct", "flow"]
            for name in order:
                lake = root / f"lake-{name}-{round_}"
                shutil.copytree(template, lake)
                samples[name].append(timed(FLOW if name == "flow" else DIRECT, lake, env))
    flow, direct = statistics.median(samples["flow"]), statistics.median(samples["direct"])
    if args.json:
        print(json.dumps({"samples": samples, "flow_s": flow, "direct_s": direct}))
        return
    print("| run (fixtures/sample, 3 customers, fresh process) | median s |")
    print("| --- | --- |")
    print(f"| `nightly` flow, Prefect ephemeral mode | {flow:.1f} |")
    print(f"| pipeline functions called directly | {direct:.1f} |")
    print(f"| overhead (flow / direct) | {flow / direct:.2f}x |")


if __name__ == "__main__":
    main()
