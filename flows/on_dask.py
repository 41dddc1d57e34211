"""Dask inside one big customer: the file-level work of pseudonymization and purge fanned out on
Prefect's DaskTaskRunner, off by default (a customer's `dask:` in customers.yaml, or the
`dask_workers`/`dask_address` parameters of a run).

Tasks are handed keys, never frames: the lake, the config folder and one file's job (its lake
key, column plans or purge plan, and the staged local file to write); each worker opens the lake,
loads the customer's key itself and returns a row count or a ledger record (and its pid). What
publishes the analytics files, and what journals, swaps in and ledgers the purge, stays in the
flow's own process (piiscan.pipeline), exactly as on the serial path: a file failing on a worker
leaves the lake as it was. Staged files are written under the flow's TMPDIR, so workers share
its host (a LocalCluster) or that folder.

Dask worker processes need a real Prefect server (PREFECT_API_URL): in ephemeral mode each
process would start its own, all locking one SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL
from prefect.task_runners import TaskRunner
from prefect_dask.task_runners import DaskTaskRunner

from flows.common import customer_key
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer, purge_due
from piiscan.pipeline.pseudonymize import FileJob, pseudonymize_file
from piiscan.pipeline.purge import RewriteJob, job_rules, rewrite_file
from piiscan.pipeline.scan import detector_for
from piiscan.policy import DaskSettings, load_config
from piiscan.pseudonymize import Redaction
from piiscan.report import datasets_json
from piiscan.storage import open_lake


class DaskNeedsServer(PiiscanError):
    """Dask was asked for without a real Prefect server (PREFECT_API_URL unset)."""

    def __init__(self, customer: str) -> None:
        super().__init__(
            f"{customer}: Dask worker processes need a real Prefect server: set PREFECT_API_URL "
            "(`prefect server start`); in ephemeral mode each worker process would start its "
            "own server and they would all lock one SQLite file"
        )


def dask_settings(
    config_dir: str, customer_id: str, workers: int = 0, address: str = ""
) -> DaskSettings | None:
    """How this run fans the customer's files out: the run's parameters (workers or address),
    else the customer's `dask:` setting; None: serial. DaskNeedsServer in ephemeral mode."""
    settings = load_config(config_dir).customer(customer_id).dask
    if address:
        settings = DaskSettings(address=address)
    elif workers:
        settings = DaskSettings(workers=workers)
    if settings is not None and not PREFECT_API_URL.value():
        raise DaskNeedsServer(customer_id)
    return settings


def task_runner(settings: DaskSettings) -> TaskRunner[Any]:
    """A DaskTaskRunner on the scheduler named, else on a LocalCluster of worker processes."""
    if settings.address:
        return cast(TaskRunner[Any], DaskTaskRunner(address=settings.address))
    runner = DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.workers,
            "threads_per_worker": settings.threads_per_worker,
            "processes": True,
            "dashboard_address": None,
        }
    )
    return cast(TaskRunner[Any], runner)  # its futures are Prefect futures


@cache
def _redactor(style: str) -> Redaction:
    """One worker process's span finder (the spaCy/Presidio engines load once per process)."""
    from piiscan.nlp import Engines

    return Redaction(Engines(), style)


@task(name="pseudonymize-file", cache_policy=NO_CACHE)
def pseudonymize_file_task(lake: str, job: FileJob) -> dict[str, int]:
    """One restricted file pseudonymized into its staged file; its row count and pid."""
    redactor = _redactor(job.redaction) if job.redaction else None
    rows = pseudonymize_file(open_lake(lake), job, customer_key(job.customer), redactor)
    return {"rows": rows, "pid": os.getpid()}


@task(name="purge-file", cache_policy=NO_CACHE)
def rewrite_file_task(lake: str, config_dir: str, job: RewriteJob) -> dict[str, Any]:
    """One planned file rewritten into its staged file (rules read again from the lake); its
    ledger record and pid."""
    storage = open_lake(lake)
    rules = job_rules(storage, load_config(config_dir), job)
    key = None if job.retired else customer_key(job.customer)
    return {"record": rewrite_file(storage, job, rules, key), "pid": os.getpid()}


@flow(name="protect-on-dask", log_prints=False)
def protect_on_dask(lake: str, config_dir: str, customer_id: str) -> dict[str, Any]:
    """Detection here, then each file to pseudonymize on a Dask worker; the datasets' JSON (as
    protect_task gives) and the worker pids under `dask_pids`."""
    config = load_config(config_dir)
    storage = open_lake(lake)
    findings = detect_datasets(storage, customer_id, detector_for(config, customer_id), config)
    pids: set[int] = set()

    def run_files(jobs: Sequence[FileJob]) -> list[int]:
        futures = [pseudonymize_file_task.submit(lake, job) for job in jobs]
        done = [f.result() for f in futures]
        pids.update(d["pid"] for d in done)
        return [d["rows"] for d in done]

    key = customer_key(customer_id)
    results = pseudonymize_customer(storage, config, customer_id, key, findings, run_files)
    return {"datasets": datasets_json(findings, results), "dask_pids": sorted(pids)}


@flow(name="purge-on-dask", log_prints=False)
def purge_on_dask(lake: str, config_dir: str, customer_id: str) -> dict[str, Any]:
    """The purge planned here, each file to rewrite staged on a Dask worker, then journaled,
    swapped in and ledgered once here; the plan's counts (as purge_task gives) and pids."""
    pids: set[int] = set()

    def rewrite_files(jobs: Sequence[RewriteJob]) -> list[dict[str, Any]]:
        futures = [rewrite_file_task.submit(lake, config_dir, job) for job in jobs]
        done = [f.result() for f in futures]
        pids.update(d["pid"] for d in done)
        return [d["record"] for d in done]

    config = load_config(config_dir)
    key = customer_key(customer_id)
    purged = purge_due(
        open_lake(lake), config, customer_id, key, clock.now(), rewrite_files=rewrite_files
    )
    return {"purged": purged, "dask_pids": sorted(pids)}
