"""Quarantine as review items: every quarantined file and every file with rejected rows waits
for a person until it is resolved.

An item is read from its reason document (`quarantine/<customer>/<run>/<name>.reason.json`) and
named `<run id>/<name>`. It is resolved
- by the lake: the same bytes (checksum) later landed rows (a layout was added and the file
  delivered again), or a file of the same name delivered in a later run landed rows without a
  rejected row (the carrier or the user fixed it);
- or by a reviewer: `piiscan review resolve` records who, when and why in
  `state/review/<customer>.json`.
Files recognised as reports without line-level rows (errors.RECOGNISED_REPORTS) are accounted
for in the ingest summary and never items. Items hold names, codes, counts, line numbers and
what a column expected: never a value.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from typing import Any

from piiscan.errors import RECOGNISED_REPORTS, NotFoundError, PiiscanError, StorageError
from piiscan.lake import keys
from piiscan.lake.manifest import load_manifest
from piiscan.storage import Storage

REJECTIONS_SHOWN = 5  # the first rejected rows an item lists (line, column, expected)


def _json(storage: Storage, key: str) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = json.loads(storage.read_bytes(key))
    except NotFoundError:
        return None
    except ValueError as exc:
        raise StorageError(storage.uri(key), f"not valid JSON: {exc}") from None
    return body


def resolutions(storage: Storage, customer: str) -> dict[str, Any]:
    """The items a reviewer resolved: item id -> {resolved_by, resolved_at, reason}."""
    body = _json(storage, keys.review_state(customer)) or {}
    resolved: dict[str, Any] = body.get("resolved", {})
    return resolved


def _landed_later(manifest: dict[str, Any], reason: dict[str, Any]) -> str | None:
    """The run that landed this file since, if one did (see the module's docstring)."""
    for checksum, entry in manifest.items():
        if not entry.get("outputs"):
            continue  # a recognised report: nothing landed
        if reason.get("checksum") and checksum == reason["checksum"]:
            if reason["code"] != "rejected_rows":
                return str(entry["run_id"])
        elif (
            entry.get("file") == reason["file"]
            and str(entry.get("run_id", "")) > reason["run_id"]
            and not entry.get("rows_rejected")
        ):
            return str(entry["run_id"])
    return None


def _quoted(text: str) -> str:
    return shlex.quote(text)


def _commands(
    customer: str, item: str, reason: dict[str, Any], quarantined: str | None
) -> list[str]:
    """Ready-to-paste commands for an item: look, fix, deliver again, or resolve."""
    resolve = (
        f"piiscan review resolve -c {customer} --item {_quoted(item)} "
        "--reason 'WHY' --by 'YOUR NAME'"
    )
    if quarantined is None:  # rejected rows: the file landed, its bad rows wait here
        return [resolve]
    local = quarantined
    steps = []
    if quarantined.startswith("s3://"):
        local = reason["file"]
        steps.append(f"aws s3 cp {_quoted(quarantined)} {_quoted(local)}")
    steps.append(f"piiscan layouts check {_quoted(local)}")
    if reason["code"] in ("unknown_layout", "weak_layout", "ambiguous_layout", "bad_header"):
        words = re.split(r"[^0-9a-z]+", reason["file"].rsplit(".", 1)[0].lower())
        name = "_".join(w for w in words if w and not w.isdigit())[:40] or "new_layout"
        steps.append(f"piiscan layouts suggest {_quoted(local)} --out configs/layouts/{name}.yaml")
    steps.append(f"piiscan ingest -c {customer} {_quoted(local)}")
    steps.append(resolve)
    return steps


def _kind(code: str) -> str:
    return "rejected_rows" if code == "rejected_rows" else "quarantined_file"


def file_items(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """The customer's quarantine items still waiting for a person, oldest first."""
    manifest = load_manifest(storage, customer)
    resolved = resolutions(storage, customer)
    done = set(resolved) | {r["checksum"] for r in resolved.values() if r.get("checksum")}
    items: dict[tuple[str, str], dict[str, Any]] = {}  # (checksum or id, code) -> item
    for key in storage.list(keys.quarantine(customer)):
        if not keys.is_quarantine_reason(key) or keys.is_staging(key):
            continue
        reason = _json(storage, key)
        if reason is None or reason.get("code") in RECOGNISED_REPORTS:
            continue
        item = keys.quarantine_item(key)
        reason.setdefault("run_id", keys.quarantine_run(key))
        if item in done or reason.get("checksum") in done or _landed_later(manifest, reason):
            continue
        quarantined = None
        if reason["code"] != "rejected_rows":
            quarantined = storage.uri(key.removesuffix(".reason.json"))
        rejections = list(reason.get("rejections") or [])
        run = keys.quarantine_run(key)
        same = (reason.get("checksum") or item, reason["code"])
        first_seen = items[same]["first_seen"] if same in items else run
        items[same] = {
            "id": item,
            "kind": _kind(reason["code"]),
            "file": reason["file"],
            "code": reason["code"],
            "reason": reason["reason"],
            "rows_delivered": int(reason.get("rows_delivered") or 0),
            "rows_rejected": int(reason.get("rows_rejected") or 0),
            "rejections": rejections[:REJECTIONS_SHOWN],
            "more_rejections": max(
                int(reason.get("rows_rejected") or 0) - REJECTIONS_SHOWN,
                len(rejections) - REJECTIONS_SHOWN,
                0,
            ),
            "quarantined": quarantined,
            "rejected_rows_files": [
                storage.uri(keys.quarantine(customer, run, name))
                for name in (reason.get("rejected_rows_files") or {}).values()
            ],
            "first_seen": first_seen,  # the same bytes sent again: one item, the latest copy
            "commands": _commands(customer, item, reason, quarantined),
        }
    return sorted(items.values(), key=lambda i: (i["first_seen"], i["file"]))


def resolve_item(
    storage: Storage, customer: str, item: str, *, reason: str, by: str, now: datetime
) -> dict[str, Any]:
    """Record that a person resolved a quarantine item; PiiscanError naming the item when the
    lake has no such item. Returns the record written."""
    reason_key = keys.quarantine_item_reason(customer, item)
    if not storage.exists(reason_key):
        raise PiiscanError(
            f"{customer} has no quarantine item {item!r} (expected <run id>/<file name> as "
            "`piiscan review pending` lists it)"
        )
    if not reason.strip() or not by.strip():
        raise PiiscanError("a resolution needs --reason and --by")
    key = keys.review_state(customer)
    body = _json(storage, key) or {"customer": customer, "resolved": {}}
    document = _json(storage, reason_key) or {}
    record = {
        "checksum": document.get("checksum"),
        "resolved_by": by,
        "resolved_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "reason": reason,
    }
    body.setdefault("resolved", {})[item] = record
    storage.write_bytes(key, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode())
    return {"item": item, **record}
