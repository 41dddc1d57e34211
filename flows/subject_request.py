"""The `subject-request` flow: carry out one recorded subject request (export or erase).

Its only parameter is the request's id (`piiscan subject request ...` records the request and
prints it), so the person's identifier never reaches Prefect: the selector is read from the
restricted zone inside the task, and the logs, the result and the artifact hold counts only.
The lake and config folder come from the worker's environment (`PIISCAN_LAKE`,
`PIISCAN_CONFIG`), as for the CLI.
"""

from __future__ import annotations

import json
import os
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.common import customer_key, customer_slot
from piiscan.lake import clock
from piiscan.lake.locks import customer_lock
from piiscan.lake.requests import load_request
from piiscan.pipeline.subject import run_request
from piiscan.policy import load_config
from piiscan.storage import open_lake


@task(name="carry-out-request", cache_policy=NO_CACHE)
def carry_out(request_id: str) -> dict[str, Any]:
    """Export to restricted/exports/<customer>/<id>/ or apply the erasure; returns the
    request's record."""
    lake = os.environ.get("PIISCAN_LAKE", "./lake")
    config = load_config(os.environ.get("PIISCAN_CONFIG", "configs"))
    storage = open_lake(lake)
    request, _ = load_request(storage, request_id)
    customer = request["customer"]
    now = clock.now()
    with customer_slot(customer), customer_lock(storage, customer, now):
        record = run_request(storage, config, request_id, customer_key(customer), now)
    get_run_logger().info(
        "request %s (%s, %s) complete", request_id, record["action"], record["customer"]
    )
    return record


@flow(name="subject-request", log_prints=False)
def subject_request(request_id: str) -> dict[str, Any]:
    """Carry out a recorded subject request; the result holds counts and a keyed hash only."""
    record = carry_out(request_id)
    outcome = record["outcome"]
    create_markdown_artifact(
        key="subject-request",
        markdown=f"### Subject request {request_id} · {record['customer']} · {record['action']}"
        f"\n\n```json\n{json.dumps(outcome, indent=1)}\n```\n",
        description="piiscan subject request outcome (counts only)",
    )
    return record
