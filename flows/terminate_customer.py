"""The `terminate-customer` flow: the deletion rerun at a customer's account end (an effective
date after today is scheduled once approved; the nightly of that day applies it).

Parameters name the customer and dates, never a person. The plan is published as an artifact
before anything is deleted, and exactly that plan is applied: if the lake changed in between
(a file delivered, a hold added), applying refuses it and nothing is deleted. With dry_run (the
default) nothing is. Run as a deployment, the flow pauses after publishing the plan until an
operator answers (Prefect UI or API: resume with {"approve": true}); run in-process (the
embedded default), the caller's dry_run=False is the approval.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment
from pydantic import Field

from flows.common import customer_key_copies, customer_key_or_none, customer_slot
from piiscan.lake import clock
from piiscan.lake.locks import customer_lock
from piiscan.pipeline.terminate import plan_termination, schedule_termination, terminate
from piiscan.policy import load_config
from piiscan.purge import PurgePlan
from piiscan.storage import open_lake

APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600  # a paused termination waits a week for its answer


class Approval(RunInput):
    """The operator's answer to a paused termination."""

    approve: bool = Field(description="Delete exactly what the published plan says.")


def plan_markdown(plan: PurgePlan) -> str:
    """A termination plan as Markdown: rows per zone and dataset, and why rows stay."""
    totals: dict[tuple[str, str], int] = {}
    for f in plan.files:
        totals[(f.zone, f.dataset)] = totals.get((f.zone, f.dataset), 0) + f.deleted
    lines = [
        f"### Termination plan · {plan.customer} · effective {plan.as_of}",
        "",
        "| zone | dataset | rows to delete |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {z} | {d} | {n} |" for (z, d), n in sorted(totals.items())]
    lines += [
        "",
        f"Other objects (landing, quarantine, reports): {len(plan.other_keys)}",
        "",
        "Rows kept: " + (", ".join(f"{k}: {v}" for k, v in plan.kept.items()) or "none"),
        "",
        "Applying deletes the customer's pseudonymization key unless a hold still names lines "
        "by token or a held row keeps raw identifiers, and writes a deletion certificate. An "
        "effective date after today is only scheduled: the nightly of that day applies it.",
    ]
    lines += [f"- **{reason}**: {why}" for reason, why in plan.reasons.items()]
    return "\n".join(lines) + "\n"


def counts(plan: PurgePlan) -> dict[str, Any]:
    """The plan's PII-free counts, for the flow's result."""
    data = plan.as_json()
    return {k: data[k] for k in ("rows_deleted", "rows_kept", "partitions_read")}


@task(name="plan-termination", cache_policy=NO_CACHE)
def plan_task(lake: str, config_dir: str, customer: str, effective: date) -> PurgePlan:
    """The termination plan, published as an artifact."""
    config = load_config(config_dir)
    config.customer(customer)
    plan = plan_termination(
        open_lake(lake), config, customer, effective, clock.today(), customer_key_or_none(customer)
    )
    create_markdown_artifact(
        key=f"termination-plan-{customer}",
        markdown=plan_markdown(plan),
        description=f"what terminating {customer} deletes and keeps",
    )
    return plan


@task(name="apply-termination", cache_policy=NO_CACHE)
def apply_task(lake: str, config_dir: str, plan: PurgePlan) -> dict[str, Any]:
    """Apply the published plan (refused if stale), certify, retire the key unless a hold or
    a held raw row still needs it; an effective date after today is only scheduled (the
    nightly of that day applies it)."""
    config = load_config(config_dir)
    storage = open_lake(lake)
    customer = plan.customer
    assert plan.terminated is not None
    if plan.terminated > clock.today():
        record = schedule_termination(
            storage, customer, plan.terminated, clock.now(), "terminate-customer flow"
        )
        get_run_logger().info(
            "termination of %s scheduled for %s: nothing deleted", customer, record.effective
        )
        return {"scheduled": record.effective.isoformat(), "rows_deleted": 0}
    with customer_lock(storage, customer, clock.now()):
        result = terminate(
            storage,
            config,
            plan,
            customer_key_or_none(customer),
            clock.now(),
            customer_key_copies(customer),
            requested_by="terminate-customer flow",
        )
    certificate = result.certificate
    create_markdown_artifact(
        key=f"termination-certificate-{customer}",
        markdown=f"### Deletion certificate · {customer}\n\nRows deleted: "
        f"{certificate['rows_deleted']}\n\nKept under holds: "
        f"{certificate['rows_remaining_under_hold'] or 'none'}\n\nKey: "
        f"{certificate['pseudonymization_key']}\n\nLedger entry {certificate['ledger']['seq']} "
        f"`{certificate['ledger']['hash']}`\n",
        description=f"deletion certificate for {customer}",
    )
    get_run_logger().info(
        "terminated %s: certificate %s", customer, storage.uri(result.certificate_keys[0])
    )
    return {
        "certificate": storage.uri(result.certificate_keys[0]),
        "rows_deleted": result.entry["rows_deleted"],
        "key_deleted": not result.key_needed,
    }


@flow(name="terminate-customer", log_prints=False)
def terminate_customer(
    customer: str,
    effective_date: date,
    dry_run: bool = True,
    lake: str = "./lake",
    config_dir: str = "configs",
) -> dict[str, Any]:
    """Plan the deletion of a customer's personal data at account end; apply unless dry_run
    (as a deployment, only once an operator approves the published plan)."""
    plan = plan_task(lake, config_dir, customer, effective_date)
    if dry_run:
        return {"dry_run": True, "plan": counts(plan)}
    if deployment.id is not None:
        get_run_logger().info("waiting for approval of the published plan for %s", customer)
        answer = pause_flow_run(
            wait_for_input=Approval,
            timeout=APPROVAL_TIMEOUT_SECONDS,
            key=f"approve-termination-{customer}",
        )
        if not answer.approve:
            get_run_logger().warning("termination of %s not approved: nothing deleted", customer)
            return {"dry_run": False, "approved": False, "plan": counts(plan)}
    with customer_slot(customer):  # not while paused: the nightly may run meanwhile
        applied = apply_task(lake, config_dir, plan)
    return {"dry_run": False, "approved": True, "plan": counts(plan), "applied": applied}
