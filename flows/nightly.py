"""The `nightly` flow: for every configured customer, ingest new landing files, detect,
pseudonymize into the analytics zone, purge what retention makes due, and report. A termination
due today (scheduled by `terminate --apply`, or retention.yaml's `terminated:`) is applied first;
a terminated customer is then only purged as its holds run out, and reported.

Tasks are thin wrappers over piiscan functions that pass lake addresses and PII-free summaries;
none is cached (Prefect would persist results of steps that read personal data), and only the
steps whose failures are I/O retry. Each customer runs under its lock in state/locks/. One
customer failing does not stop the others: the flow finishes them all, then fails naming the
customers that failed and why.

A customer's run that fails leaves its reason beside its reports (reports/<customer>/<run
id>.failed.json), and reports/index.json and index.html (the report index) are rebuilt after each
customer's own flow run and at the end of the night; the index is a view, so a failure to write it
is logged and never fails a night.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from prefect import flow, get_client, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, WorkerStatus
from prefect.deployments import run_deployment

from flows.common import (
    CustomerFailed,
    customer_key,
    customer_key_copies,
    customer_key_or_none,
    customer_slot,
    ensure_customer_limits,
    failure_reason,
    is_transient,
    retry_if_transient,
    secrets_cached,
)
from flows.on_dask import dask_settings, protect_on_dask, purge_on_dask, task_runner
from piiscan.lake import clock
from piiscan.lake import keys as lake_keys
from piiscan.lake.keys import new_run_id
from piiscan.lake.locks import customer_lock
from piiscan.lake.reports import read_report, write_failure, write_index
from piiscan.pipeline.ingest import ingest_landing
from piiscan.pipeline.nightly import (
    apply_due_termination,
    detect_datasets,
    finish_report,
    is_quiet,
    pseudonymize_customer,
    purge_due,
    skipped_ingest,
)
from piiscan.pipeline.scan import detector_for
from piiscan.pipeline.terminate import is_terminated
from piiscan.policy import DaskSettings, load_config
from piiscan.report import datasets_json, markdown, summary
from piiscan.storage import Storage, open_lake


class CustomersFailed(RuntimeError):
    """Raised at the end of a run in which some customers failed; carries the run's outcome."""

    def __init__(self, message: str, outcome: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome or {}


# Only transient failures are retried (retry_if_transient): the lake briefly unreachable, the
# customer's lock held by a command; bad data, configs or keys fail at once.
RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": 5,
    "retry_condition_fn": retry_if_transient,
}
# Results per customer that ran, reasons per customer that failed.
Outcomes = tuple[dict[str, Any], dict[str, str]]
# The deployment the coordinator starts once per customer (prefect.yaml).
CUSTOMER_DEPLOYMENT = "customer-nightly/customer-nightly"


@task(name="lake-lock", cache_policy=NO_CACHE, **RETRIES)
def lake_lock_task(lake: str, customer_id: str) -> None:
    """Wait for the customer's lake lock to be free (a CLI command may hold it): LockedError
    is transient, so the task retries it; the run then takes the lock itself."""
    with customer_lock(open_lake(lake), customer_id, clock.now()):
        pass


@task(name="ingest", cache_policy=NO_CACHE, **RETRIES)
def ingest_task(lake: str, config_dir: str, customer_id: str, run_id: str) -> dict[str, Any]:
    """New landing files into the restricted zone; returns the ingest summary."""
    config = load_config(config_dir)
    result = ingest_landing(
        open_lake(lake),
        config.customer(customer_id),
        run_id,
        layouts=config.layouts,
        limits=config.ingest,
        now=clock.now(),
    ).as_json()
    get_run_logger().info(
        "%s: %s ingested, %s quarantined, %s skipped",
        customer_id,
        result["files_ingested"],
        result["files_quarantined"],
        result["files_skipped"],
    )
    return result


@task(name="detect-and-pseudonymize", cache_policy=NO_CACHE)
def protect_task(lake: str, config_dir: str, customer_id: str) -> dict[str, Any]:
    """Detection findings (masked) and the analytics zone for one customer."""
    config = load_config(config_dir)
    storage = open_lake(lake)
    detector = detector_for(config, customer_id)
    findings = detect_datasets(storage, customer_id, detector, config)
    results = pseudonymize_customer(
        storage, config, customer_id, customer_key(customer_id), findings
    )
    return datasets_json(findings, results)


@task(name="terminate-if-due", cache_policy=NO_CACHE)
def termination_task(lake: str, config_dir: str, customer_id: str) -> dict[str, Any] | None:
    """Apply the customer's termination if it is due today (scheduled, or retention.yaml's
    date reached); returns the certificate's key and counts, None when none is due."""
    config = load_config(config_dir)
    return apply_due_termination(
        open_lake(lake),
        config,
        customer_id,
        customer_key_or_none(customer_id),
        clock.now(),
        customer_key_copies(customer_id),
    )


@task(name="purge", cache_policy=NO_CACHE)
def purge_task(
    lake: str, config_dir: str, customer_id: str, terminated: bool = False
) -> dict[str, Any]:
    """Apply what retention makes due today (ledgered); returns the plan's counts. A
    terminated customer's key may be gone; it is retired once nothing needs it."""
    config = load_config(config_dir)
    if not terminated:
        key = customer_key(customer_id)
        return purge_due(open_lake(lake), config, customer_id, key, clock.now())
    return purge_due(
        open_lake(lake),
        config,
        customer_id,
        customer_key_or_none(customer_id),
        clock.now(),
        customer_key_copies(customer_id),
    )


@task(name="report", cache_policy=NO_CACHE, **RETRIES)
def report_task(
    lake: str,
    config_dir: str,
    customer_id: str,
    run_id: str,
    ingest: dict[str, Any],
    datasets: dict[str, Any],
    purged: dict[str, Any],
    summary_artifact: bool = True,
) -> dict[str, Any]:
    """Write the run report (JSON and HTML, drift against the previous run), its link artifact
    and (summary_artifact) its Markdown artifact; returns where it is and the summary, which
    says whether it needs review."""
    storage = open_lake(lake)
    key, document = finish_report(
        storage,
        load_config(config_dir),
        customer_id,
        run_id,
        clock.now(),
        ingest=ingest,
        datasets=datasets,
        purge=purged,
    )
    if document["needs_review"]:
        get_run_logger().warning(
            "%s needs review: %d item(s)", customer_id, summary(document)["review_items"]
        )
    if summary_artifact:
        create_markdown_artifact(
            key=f"nightly-{customer_id}",
            markdown=markdown(customer_id, document),
            description=f"piiscan nightly run for {customer_id}",
        )
    html = storage.uri(lake_keys.report(customer_id, run_id, "html"))
    create_link_artifact(
        html,
        link_text=f"{customer_id} · run {run_id}",
        key=f"report-{customer_id}",
        description=f"piiscan report of {customer_id}'s latest run",
    )
    return {"customer": customer_id, "report": storage.uri(key), "html": html, **summary(document)}


def record_failure(lake: str, customer_id: str, run_id: str, reason: str) -> None:
    """Leave the failed run's PII-free reason beside the customer's reports, for the index and
    `piiscan report show`; a lake that cannot take it is logged, never raised over the failure."""
    try:
        write_failure(open_lake(lake), customer_id, run_id, reason, clock.now())
    except Exception as exc:
        get_run_logger().warning(
            "customer %s: failure record not written: %s", customer_id, failure_reason(exc)
        )


def refresh_index(lake: str, config_dir: str) -> str | None:
    """Rebuild reports/index.json and index.html over every configured customer and link the
    page as the `report-index` artifact; returns the page's address, None (and a warning) when
    the index could not be written: the index is a view, never a reason to fail a night."""
    try:
        storage = open_lake(lake)
        customers = [c.id for c in load_config(config_dir).customers]
        _, html_key = write_index(storage, customers, clock.now())
        html = storage.uri(html_key)
        create_link_artifact(
            html,
            link_text="piiscan report index",
            key="report-index",
            description="piiscan: every customer's latest run, failures and recent runs",
        )
    except Exception as exc:
        get_run_logger().warning("report index not refreshed: %s", failure_reason(exc))
        return None
    return html


def run_one(
    lake: str,
    config_dir: str,
    customer_id: str,
    run_id: str,
    dask: DaskSettings | None = None,
    as_tasks: bool = True,
) -> dict[str, Any]:
    """One customer's tasks, in order, under the customer's lock. A termination due today is
    applied first; a terminated customer is not ingested or pseudonymized again, only purged
    as its holds run out, and reported. dask: pseudonymize and purge file by file on Dask
    (flows.on_dask; the result then names the worker pids under `dask_pids`).

    as_tasks=False runs the same steps as plain calls inside the caller's task, without a
    progress artifact (a quiet customer in a batch: one task run for its whole night instead
    of six, since Prefect's bookkeeping of each task costs more than a quiet step's work)."""
    storage = open_lake(lake)
    if as_tasks:
        progress = create_progress_artifact(
            0.0, key=f"progress-{customer_id}", description=f"{customer_id}'s night, run {run_id}"
        )

    def done(share: float) -> None:
        if as_tasks:
            update_progress_artifact(progress, share)  # type: ignore[arg-type]  # sync here

    step = _steps(as_tasks)
    step.lake_lock(lake, customer_id)
    with customer_lock(storage, customer_id, clock.now()):
        applied = step.termination(lake, config_dir, customer_id)
        done(10.0)
        if is_terminated(storage, customer_id):
            purged = step.purge(lake, config_dir, customer_id, terminated=True)
            purged["termination"] = {**(purged.get("termination") or {}), "applied": applied}
            ingest = skipped_ingest(customer_id, run_id)
            done(80.0)
            result = step.report(lake, config_dir, customer_id, run_id, ingest, {}, purged)
            done(100.0)
            return result
        ingest = step.ingest(lake, config_dir, customer_id, run_id)
        done(40.0)
        if dask is None:
            datasets = step.protect(lake, config_dir, customer_id)
            done(70.0)
            purged = step.purge(lake, config_dir, customer_id)
            pids: list[int] = []
        else:
            runner = task_runner(dask)
            protected = protect_on_dask.with_options(task_runner=runner)(
                lake, config_dir, customer_id
            )
            datasets = protected["datasets"]
            done(70.0)
            purging = purge_on_dask.with_options(task_runner=task_runner(dask))
            on_dask = purging(lake, config_dir, customer_id)
            purged = on_dask["purged"]
            pids = sorted({*protected["dask_pids"], *on_dask["dask_pids"]})
        done(90.0)
        result = step.report(lake, config_dir, customer_id, run_id, ingest, datasets, purged)
        done(100.0)
        return {**result, "dask_pids": pids} if dask is not None else result


@dataclass(frozen=True)
class _Steps:
    """A customer's steps: Prefect tasks (each its own task run) or their plain functions."""

    lake_lock: Callable[..., None]
    termination: Callable[..., dict[str, Any] | None]
    ingest: Callable[..., dict[str, Any]]
    protect: Callable[..., dict[str, Any]]
    purge: Callable[..., dict[str, Any]]
    report: Callable[..., dict[str, Any]]


def _steps(as_tasks: bool) -> _Steps:
    """The tasks, or their functions (called inside one task that holds the retries)."""
    if as_tasks:
        return _Steps(
            lake_lock_task, termination_task, ingest_task, protect_task, purge_task, report_task
        )
    return _Steps(
        lake_lock_task.fn,
        termination_task.fn,
        ingest_task.fn,
        protect_task.fn,
        purge_task.fn,
        partial(report_task.fn, summary_artifact=False),  # the link artifact only
    )


PROGRESS_EVERY = 10  # a quiet batch's progress artifact is updated every this many customers


@task(name="quiet-batch", cache_policy=NO_CACHE)
def quiet_batch_task(lake: str, config_dir: str, customers: list[str], run_id: str) -> Outcomes:
    """Quiet customers' nights one after another in one task run: each under its own
    concurrency slot and lake lock, its steps as plain calls (run_one, as_tasks=False) with
    its Secret block read once, its report and link artifact as usual; a transient failure is
    retried as a task's would be (RETRIES), a permanent one is recorded and the batch goes on.
    One progress artifact for the batch. A task run per customer cost more in Prefect's
    bookkeeping than a quiet customer's own work."""
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    progress = create_progress_artifact(
        0.0,
        key=f"progress-quiet-{customers[0]}",
        description=f"quiet batch of {len(customers)} customer(s), run {run_id}",
    )
    for number, customer_id in enumerate(customers, 1):
        try:
            results[customer_id] = _retrying(
                customer_id, partial(_quiet_night, lake, config_dir, customer_id, run_id)
            )
        except Exception as exc:  # one customer failing must not stop the others
            failed[customer_id] = failure_reason(exc)
            get_run_logger().error("customer %s failed: %s", customer_id, failed[customer_id])
            record_failure(lake, customer_id, run_id, failed[customer_id])
        if number % PROGRESS_EVERY == 0 or number == len(customers):
            update_progress_artifact(progress, 100.0 * number / len(customers))  # type: ignore[arg-type]
    return results, failed


def _quiet_night(lake: str, config_dir: str, customer_id: str, run_id: str) -> dict[str, Any]:
    """One quiet customer's night under its slot (the batch made sure the limit exists)."""
    with customer_slot(customer_id, ensure=False), secrets_cached():
        return run_one(lake, config_dir, customer_id, run_id, as_tasks=False)


def _retrying(customer_id: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """call(), again after RETRIES' delay while it fails transiently (is_transient), at most
    RETRIES' retries; a permanent failure is raised at once."""
    retries, delay = int(RETRIES["retries"]), float(RETRIES["retry_delay_seconds"])
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == retries or not is_transient(exc):
                raise
            get_run_logger().warning(
                "customer %s: %s, retrying in %.0f s", customer_id, failure_reason(exc), delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def counts_table(results: dict[str, Any], failed: dict[str, str]) -> list[dict[str, Any]]:
    """One row per customer: its outcome and counts (PII-free)."""
    rows = []
    for customer, result in sorted(results.items()):
        rows.append(
            {
                "customer": customer,
                "outcome": "needs review" if result["needs_review"] else "ok",
                "files_ingested": result["files_ingested"],
                "files_quarantined": result["files_quarantined"],
                "rows": sum(result["rows"].values()),
                "rows_rejected": result["rows_rejected"],
                "review_items": result["review_items"],
                "report": result["html"],
            }
        )
    for customer, why in sorted(failed.items()):
        rows.append({"customer": customer, "outcome": f"failed: {why}"})
    return rows


def run_markdown(run_id: str, results: dict[str, Any], failed: dict[str, str]) -> str:
    """One line per customer: needs review, fine, or failed (and why)."""
    lines = [
        f"### nightly run {run_id}",
        "",
        "| customer | outcome | report |",
        "| --- | --- | --- |",
    ]
    for customer, result in sorted(results.items()):
        outcome = (
            f"**needs review** ({result['review_items']} item(s))"
            if result["needs_review"]
            else "nothing to review"
        )
        lines.append(f"| {customer} | {outcome} | {result['html']} |")
    for customer, why in sorted(failed.items()):
        lines.append(f"| {customer} | **failed**: {why} | - |")
    return "\n".join(lines) + "\n"


@flow(name="customer-nightly", log_prints=False)
def customer_nightly(
    lake: str = "./lake",
    config_dir: str = "configs",
    customer: str = "",
    run_id: str = "",
    dask_workers: int = 0,
    dask_address: str = "",
    index: bool = True,
    batch: list[str] | None = None,
) -> dict[str, Any]:
    """One customer's night (the coordinator starts one run per customer): under the customer's
    concurrency slot, so two runs of one customer never overlap on any worker or host. Fails
    with a PII-free reason (CustomerFailed) the coordinator reports. dask_workers (a
    LocalCluster of that many processes) or dask_address (a running scheduler) fan its files
    out on Dask; else the customer's `dask:` setting decides (none: serial). Dask needs a real
    Prefect server: DaskNeedsServer at once in ephemeral mode. index: rebuild the report index
    after the run (the coordinator passes False and rebuilds it once at its end).

    batch: more customers to run after this one, one after another in this run, each under its
    own slot (the coordinator batches quiet customers: nothing new delivered, no termination
    due); each leaves its report or its failure record, and the run fails naming those that
    failed."""
    config = load_config(config_dir)
    customer_id = config.customer(customer).id
    if batch:
        chosen = [customer_id, *(config.customer(c).id for c in batch)]
        try:
            run_id = run_id or new_run_id(clock.now())
            results, failed = _inline(lake, config_dir, chosen, run_id, quiet=True)
        finally:
            if index:
                refresh_index(lake, config_dir)
        outcome = {"customers": results, "failed": failed}
        if failed:
            reasons = "; ".join(f"{c}: {why}" for c, why in sorted(failed.items()))
            raise CustomersFailed(f"{len(failed)} customer(s) failed: {reasons}", outcome)
        return outcome
    dask = dask_settings(config_dir, customer_id, dask_workers, dask_address)
    run_id = run_id or new_run_id(clock.now())
    try:
        with customer_slot(customer_id):
            try:
                return run_one(lake, config_dir, customer_id, run_id, dask)
            except Exception as exc:
                reason = failure_reason(exc)
                get_run_logger().error("customer %s failed: %s", customer_id, reason)
                record_failure(lake, customer_id, run_id, reason)
                raise CustomerFailed(customer_id, reason, is_transient(exc)) from None
    finally:
        if index:
            refresh_index(lake, config_dir)


def _inline(
    lake: str, config_dir: str, chosen: list[str], run_id: str, quiet: bool = False
) -> Outcomes:
    """Every customer one after another in this flow run (the embedded default), each under
    its slot; one failing does not stop the others: each leaves its report or its failure
    record. quiet: a coordinator's batch of quiet customers, all in one task run
    (quiet_batch_task), except a customer with a Dask setting, which keeps its tasks (its purge
    may still be large)."""
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    dask = {c: dask_settings(config_dir, c) for c in chosen}  # DaskNeedsServer before any work
    if quiet:
        ensure_customer_limits(chosen)  # once for the batch, not once per slot
        plain = [c for c in chosen if dask[c] is None]
        if plain:
            results, failed = quiet_batch_task(lake, config_dir, plain, run_id)
        chosen = [c for c in chosen if dask[c] is not None]
    for customer_id in chosen:
        try:
            with customer_slot(customer_id, ensure=not quiet):
                results[customer_id] = run_one(
                    lake, config_dir, customer_id, run_id, dask[customer_id]
                )
        except Exception as exc:  # one customer failing must not stop the others
            failed[customer_id] = failure_reason(exc)
            get_run_logger().error("customer %s failed: %s", customer_id, failed[customer_id])
            record_failure(lake, customer_id, run_id, failed[customer_id])
    return results, failed


def _run_failure(run: FlowRun) -> str:
    """Why a customer's flow run did not complete: the PII-free reason customer_nightly raised
    (CustomerFailed), else the state (a crashed or cancelled run) and Prefect's message."""
    state = run.state
    if state is None:
        return "no state"
    message = (state.message or "").strip()
    marker = f"customer {run.parameters.get('customer')} failed: "
    if "CustomerFailed" in message and marker in message:
        return message.split(marker, 1)[1]
    name = state.name or state.type.value
    return f"{name}: {message}" if message else name


def quiet_customers(lake: str, config_dir: str, chosen: list[str]) -> list[str]:
    """The chosen customers whose night has little to do (piiscan.pipeline.nightly.is_quiet);
    a customer whose lake cannot tell is not quiet: its own run will say why."""
    storage, config, today = open_lake(lake), load_config(config_dir), clock.now().date()
    quiet = []
    for customer_id in chosen:
        try:
            if is_quiet(storage, config, customer_id, today):
                quiet.append(customer_id)
        except Exception as exc:
            get_run_logger().info("customer %s runs alone: %s", customer_id, failure_reason(exc))
    return quiet


def online_workers(deployment: str) -> int:
    """How many workers of the deployment's work pool are online (at least 1)."""
    try:
        with get_client(sync_client=True) as client:
            pool = client.read_deployment_by_name(deployment).work_pool_name
            if pool is None:
                return 1
            workers = client.read_workers_for_work_pool(pool)
    except Exception as exc:
        get_run_logger().warning("work pool workers unknown: %s", failure_reason(exc))
        return 1
    return max(1, sum(1 for w in workers if w.status == WorkerStatus.ONLINE))


def batches(customers: list[str], count: int) -> list[list[str]]:
    """customers in at most count batches of near-equal size, in their order."""
    count = max(1, min(count, len(customers)))
    size, extra = divmod(len(customers), count)
    out, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        out.append(customers[start:end])
        start = end
    return [b for b in out if b]


def _customer_outcome(storage: Storage, customer_id: str, run_id: str) -> dict[str, Any] | None:
    """The customer's result from its report of this run, or None when it wrote none."""
    key = lake_keys.report(customer_id, run_id)
    if not storage.exists(key):
        return None
    return {
        "customer": customer_id,
        "report": storage.uri(key),
        "html": storage.uri(lake_keys.report(customer_id, run_id, "html")),
        **summary(read_report(storage, key)),
    }


def _recorded_failure(storage: Storage, customer_id: str, run_id: str) -> str | None:
    """The reason a customer's run of run_id left in its failure record, if it left one."""
    key = lake_keys.failure(customer_id, run_id)
    if not storage.exists(key):
        return None
    reason = read_report(storage, key).get("reason")
    return str(reason) if reason else None


def _fanned_out(
    lake: str,
    config_dir: str,
    chosen: list[str],
    run_id: str,
    deployment: str,
    poll: float,
    batch_quiet: bool = True,
) -> Outcomes:
    """One run of the customer deployment per customer, spread by the work pool over every
    worker; waits for all of them and reads each result from the customer's report. With
    batch_quiet, quiet customers (nothing new delivered, no termination due) go in batches,
    one per online worker, instead of one process each: a night that changed nothing costs a
    few flow runs, not one per customer."""
    ensure_customer_limits(chosen)
    storage = open_lake(lake)
    quiet = quiet_customers(lake, config_dir, chosen) if batch_quiet else []
    groups = [[c] for c in chosen if c not in quiet]
    groups += batches(quiet, online_workers(deployment)) if quiet else []
    started: dict[tuple[str, ...], FlowRun] = {}
    for number, group in enumerate(groups):
        alone = len(group) == 1 and group[0] not in quiet
        started[tuple(group)] = run_deployment(  # type: ignore[assignment]  # sync here
            deployment,
            parameters={
                "lake": lake,
                "config_dir": config_dir,
                "customer": group[0],
                "run_id": run_id,
                "index": False,  # rebuilt once when all of them have ended
                **({} if alone else {"batch": group[1:]}),
            },
            flow_run_name=f"{group[0]}-{run_id}" if alone else f"quiet-{number}-{run_id}",
            timeout=0,  # start them all, then wait below
            tags=["piiscan", *(f"customer:{c}" for c in group), *([] if alone else ["quiet"])],
        )
    get_run_logger().info(
        "started %d run(s) of %s: %d customer(s) alone, %d quiet in %d batch(es)",
        len(started),
        deployment,
        len(chosen) - len(quiet),
        len(quiet),
        len(groups) - (len(chosen) - len(quiet)),
    )
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    waiting = dict(started)
    with get_client(sync_client=True) as client:
        while waiting:
            for members, run in list(waiting.items()):
                now = client.read_flow_run(run.id)
                if now.state is None or not now.state.is_final():
                    continue
                del waiting[members]
                for customer_id in members:  # each left its report, or a failure record, or
                    outcome = _customer_outcome(storage, customer_id, run_id)  # crashed
                    if outcome is not None:
                        results[customer_id] = outcome
                        continue
                    recorded = _recorded_failure(storage, customer_id, run_id)
                    failed[customer_id] = recorded or _run_failure(now)
                    get_run_logger().error(
                        "customer %s failed: %s", customer_id, failed[customer_id]
                    )
                    if recorded is None:
                        record_failure(lake, customer_id, run_id, failed[customer_id])
            if waiting:
                time.sleep(poll)
    return results, failed


@flow(name="nightly", log_prints=False)
def nightly(
    lake: str = "./lake",
    config_dir: str = "configs",
    customers: list[str] | None = None,
    fan_out: bool = False,
    customer_deployment: str = CUSTOMER_DEPLOYMENT,
    poll_seconds: float = 5,
    batch_quiet: bool = True,
) -> dict[str, Any]:
    """Run every configured customer (or only those named); fail at the end if any failed.

    fan_out=False (the embedded default) runs them one after another in this flow run;
    fan_out=True (the deployed nightly) starts one run of `customer_deployment` per customer,
    which the work pool spreads over any number of workers and hosts, and waits for them all;
    with batch_quiet (the default) customers with nothing new delivered and no termination due
    run in batches, one per online worker, so a quiet night does not pay a process per
    customer (batch_quiet=False: one run each, always)."""
    config = load_config(config_dir)
    chosen = [
        c.id for c in (config.customers if customers is None else map(config.customer, customers))
    ]
    run_id = new_run_id(clock.now())
    if fan_out:
        results, failed = _fanned_out(
            lake, config_dir, chosen, run_id, customer_deployment, poll_seconds, batch_quiet
        )
    else:
        results, failed = _inline(lake, config_dir, chosen, run_id)
    index = refresh_index(lake, config_dir)
    needs_review = sorted(c for c, r in results.items() if r["needs_review"])
    if needs_review:
        get_run_logger().warning("needs review: %s", ", ".join(needs_review))
    create_markdown_artifact(
        key="nightly-summary",
        markdown=run_markdown(run_id, results, failed),
        description="piiscan nightly run: which customers need review or failed",
    )
    create_table_artifact(
        key="nightly-customers",
        table=counts_table(results, failed),
        description=f"piiscan nightly run {run_id}: counts per customer",
    )
    outcome = {
        "run_id": run_id,
        "customers": results,
        "needs_review": needs_review,
        "failed": failed,
        "index": index,
    }
    if failed:
        reasons = "; ".join(f"{c}: {why}" for c, why in sorted(failed.items()))
        raise CustomersFailed(f"{len(failed)} customer(s) failed: {reasons}", outcome)
    return outcome


if __name__ == "__main__":
    nightly()
