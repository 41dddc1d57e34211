"""The `nightly` flow: for every configured customer, ingest new landing files, detect,
pseudonymize into the analytics zone, and report.

Tasks pass lake addresses and PII-free summaries only; tasks touching personal data are not
cached (Prefect would persist their results). One customer failing does not stop the others:
the flow finishes them all, then fails naming the customers that failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from piiscan.detect import Detector, Settings
from piiscan.errors import PiiscanError
from piiscan.ingest.engine import new_run_id
from piiscan.keys import load_key
from piiscan.nlp import Engines
from piiscan.pipeline import run_customer
from piiscan.policy import Config, load_config
from piiscan.pseudonymize import Key, parse_keyring
from piiscan.storage import open_lake


class CustomersFailed(RuntimeError):
    """Raised at the end of a run in which some customers failed."""


def failure_reason(error: object) -> str:
    """Why a customer failed, safe to store: piiscan errors carry no raw values, others may."""
    if isinstance(error, PiiscanError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def customer_key(customer_id: str) -> Key:
    """The customer's key: the Prefect Secret block piiscan-key-<customer>, else env or file."""
    try:
        secret: Secret[str] = Secret.load(f"piiscan-key-{customer_id}")  # type: ignore[assignment]
    except ValueError:  # no such block: local key material (PIISCAN_KEY_* or keys/<customer>.json)
        return load_key(customer_id)
    return parse_keyring(customer_id, str(secret.get()))


def detector_for(config: Config, customer_id: str) -> Detector:
    """A detector with the customer's employee-ID patterns and the configured actions."""
    patterns = config.employee_id_patterns(customer_id)
    actions = {str(entity): str(action) for entity, action in config.actions.items()}
    return Detector(
        Settings(), employee_id_patterns=patterns, actions=actions, models=Engines(patterns)
    )


@task(name="run-customer", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def run_customer_task(lake: str, config_dir: str, customer_id: str, run_id: str) -> dict[str, Any]:
    """Ingest and report one customer; returns the PII-free summary."""
    config = load_config(config_dir)
    storage = open_lake(lake)
    detector = detector_for(config, customer_id)
    result = run_customer(
        storage,
        config,
        config.customer(customer_id),
        run_id,
        datetime.now(UTC),
        customer_key(customer_id),
        detector,
    )
    get_run_logger().info(
        "customer %s: %s file(s) ingested, %s quarantined, %s skipped; report %s",
        customer_id,
        result.summary["files_ingested"],
        result.summary["files_quarantined"],
        result.summary["files_skipped"],
        result.report_key,
    )
    return {"customer": customer_id, "report": storage.uri(result.report_key), **result.summary}


@flow(name="nightly", log_prints=False)
def nightly(lake: str = "./lake", config_dir: str = "configs") -> dict[str, Any]:
    """Run every configured customer; fail at the end if any customer failed."""
    config = load_config(config_dir)
    run_id = new_run_id()
    futures: dict[str, PrefectFuture[dict[str, Any]]] = {
        c.id: run_customer_task.submit(lake, config_dir, c.id, run_id) for c in config.customers
    }
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for customer_id, future in futures.items():
        future.wait()
        if future.state.is_completed():
            results[customer_id] = future.result()
        else:
            failed[customer_id] = failure_reason(future.result(raise_on_failure=False))
    summary = {"run_id": run_id, "customers": results, "failed": failed}
    if failed:
        reasons = "; ".join(f"{c}: {why}" for c, why in sorted(failed.items()))
        raise CustomersFailed(f"{len(failed)} customer(s) failed: {reasons}")
    return summary


if __name__ == "__main__":
    nightly()
