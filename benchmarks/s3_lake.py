"""The demo's nightly flow with the lake on S3 (SeaweedFS on 127.0.0.1, versioned bucket) against
the same flow on a local lake, each in a fresh process, alternating, in the same run.

    .venv/bin/python benchmarks/s3_lake.py [--repeat 3] [--json]

The landing zone holds what `piiscan demo` stages (3 customers, 2 bill cycles, 12 lines, seed 7);
the time is the `nightly` flow alone (Prefect's ephemeral server start included), measured inside
the child process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.seaweed import SeaweedFS  # noqa: E402  (the same server the tests start)

CHILD = """
import json, sys, tempfile, time
from pathlib import Path
from piiscan.testing.stage import stage_fixtures
from piiscan.testing.generate import generate
from piiscan.storage import open_lake
lake = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    generate(Path(tmp), customers=3, months=2, lines=12, seed=7)
    stage_fixtures(open_lake(lake), Path(tmp))
from flows.nightly import nightly
start = time.perf_counter()
state = nightly(lake=lake, config_dir="configs", return_state=True)
seconds = time.perf_counter() - start
assert state.is_completed(), state
print(json.dumps({"seconds": seconds}))
"""


def run_child(lake: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, lake],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds: float = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piiscan-s3bench-") as tmp:
        root = Path(tmp)
        server = SeaweedFS(root / "seaweed")
        server.start()
        try:
            keys = root / "keys"
            env = {
                **os.environ,
                **server.env,
                "PIISCAN_KEYS_DIR": str(keys),
                "PREFECT_HOME": str(root / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
                "DO_NOT_TRACK": "1",
                "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
            }
            env.pop("PREFECT_API_URL", None)
            for customer in ("acme", "globex", "initech"):
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "piiscan.cli",
                        "keys",
                        "create",
                        "-c",
                        customer,
                        "--keys",
                        str(keys),
                    ],
                    cwd=REPO,
                    env=env,
                    check=True,
                    capture_output=True,
                )
            samples: dict[str, list[float]] = {"local": [], "s3": []}
            for round_ in range(args.repeat):
                order = ["local", "s3"] if round_ % 2 == 0 else ["s3", "local"]
                for name in order:
                    if name == "s3":
                        bucket = server.create_bucket(f"bench-{round_}", versioned=True)
                        lake = f"s3://{bucket}/lake"
                    else:
                        lake = str(root / f"local-{round_}")
                    samples[name].append(run_child(lake, env))
        finally:
            server.stop()
    local, s3 = statistics.median(samples["local"]), statistics.median(samples["s3"])
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "samples": samples,
        "local_s": local,
        "s3_s": s3,
        "ratio": s3 / local,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['date']} · {result['machine']} · load {result['load_average']}")
    print("| nightly flow, demo data (3 customers), fresh process | median s | runs |")
    print("| --- | --- | --- |")
    print(f"| local lake | {local:.1f} | {', '.join(f'{x:.1f}' for x in samples['local'])} |")
    print(
        f"| S3 lake (SeaweedFS, versioned bucket) | {s3:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in samples['s3'])} |"
    )
    print(f"| S3 / local | {s3 / local:.2f}x | |")


if __name__ == "__main__":
    main()
