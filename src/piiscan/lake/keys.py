"""Every lake key: the only module that builds or parses one (the layout is a contract, see
docs/DESIGN.md). Keys are '/'-separated, relative to the lake root.

```
landing/<customer>/<carrier>/<file as delivered>
restricted/<dataset>/customer=<id>/period=<YYYY-MM>/<stem>.parquet
analytics/<dataset>/customer=<id>/period=<YYYY-MM>/<stem>.parquet
restricted/requests/<customer>/<request id>.json     pending subject requests (selector)
restricted/exports/<customer>/<request id>/...       export bundles made by the flow
quarantine/<customer>/<run id>/<file> + <file>.reason.json (+ <file>.rejected-<n>.parquet)
reports/<customer>/<run id>.json and .html
certificates/<customer>/<effective date>.json and .html
ledger/<customer>.jsonl
state/ingested/<customer>.json                       the ingest manifest
state/holds/<customer>.json                          audit and legal holds
state/locks/<customer>.json                          the customer's run lock
state/purge/<customer>.journal.json                  changes not yet ledgered
state/ledger/<customer>.head.json                    the ledger's signed head (seq, hash)
state/requests/<customer>/<request id>.json          completed request records (no identifier)
```
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from piiscan.errors import PiiscanError
from piiscan.storage.base import join

ZONES = ("restricted", "analytics")
AREAS = ("landing", *ZONES, "quarantine", "reports", "certificates", "ledger", "state")


def area(name: str) -> str:
    """A top-level folder of the lake (PiiscanError for any other name)."""
    if name not in AREAS:
        raise PiiscanError(f"unknown lake area {name!r}; expected one of {', '.join(AREAS)}")
    return name


def name_of(key: str) -> str:
    """The last part of a key (a file name)."""
    return key.rsplit("/", 1)[-1]


# --- landing ----------------------------------------------------------------------------------


def landing(customer: str, carrier: str | None = None, name: str | None = None) -> str:
    """A customer's landing folder, one carrier's, or one delivered file."""
    return join("landing", customer, carrier or "", name or "")


# --- the two zones ----------------------------------------------------------------------------


def dataset_folder(zone: str, dataset: str, customer: str | None = None) -> str:
    """A dataset's folder in a zone, or one customer's part of it."""
    return join(zone, dataset, f"customer={customer}" if customer else "")


def partition_file(zone: str, dataset: str, customer: str, period: str, stem: str) -> str:
    """One Parquet file of a dataset partition."""
    return join(dataset_folder(zone, dataset, customer), f"period={period}", f"{stem}.parquet")


@dataclass(frozen=True)
class PartitionFile:
    """A parsed zone key."""

    zone: str
    dataset: str
    customer: str
    period: str
    name: str


def parse_partition_file(key: str) -> PartitionFile | None:
    """The parts of a zone file's key, or None when key is no partition file."""
    parts = key.split("/")
    if (
        len(parts) != 5
        or parts[0] not in ZONES
        or not parts[2].startswith("customer=")
        or not parts[3].startswith("period=")
        or not parts[4].endswith(".parquet")
    ):
        return None
    return PartitionFile(
        parts[0],
        parts[1],
        parts[2].removeprefix("customer="),
        parts[3].removeprefix("period="),
        parts[4],
    )


def period_of(key: str) -> str:
    """The YYYY-MM period of a zone file's key."""
    parsed = parse_partition_file(key)
    if parsed is None:
        raise ValueError(f"{key} is not a partition file")
    return parsed.period


def mirror(key: str, zone: str) -> str:
    """The same partition file's key in another zone."""
    if parse_partition_file(key) is None:
        raise ValueError(f"{key} is not a partition file")
    return join(zone, key.split("/", 1)[1])


# --- quarantine -------------------------------------------------------------------------------


def quarantine(customer: str, run_id: str | None = None, name: str | None = None) -> str:
    """A customer's quarantine, one run's folder, or one quarantined object."""
    return join("quarantine", customer, run_id or "", name or "")


def quarantine_reason(customer: str, run_id: str, name: str) -> str:
    """The reason document beside a quarantined file."""
    return quarantine(customer, run_id, f"{name}.reason.json")


def rejected_rows_prefix(customer: str, run_id: str, name: str) -> str:
    """What the keys of a file's rejected-rows Parquet objects start with."""
    return quarantine(customer, run_id, f"{name}.rejected-")


def is_rejected_rows(key: str) -> bool:
    """Whether a quarantine key holds rejected rows (Parquet, as delivered)."""
    return ".rejected-" in name_of(key) and key.endswith(".parquet")


def quarantine_run(key: str) -> str:
    """The run id of a quarantine key."""
    return key.split("/")[2]


# --- reports and certificates -----------------------------------------------------------------


def reports(customer: str) -> str:
    """A customer's report folder."""
    return join("reports", customer)


def report(customer: str, run_id: str, ext: str = "json") -> str:
    """A run's report (json or html)."""
    return join(reports(customer), f"{run_id}.{ext}")


def report_run(key: str) -> str:
    """The run id a report key names."""
    return name_of(key).rsplit(".", 1)[0]


def certificates(customer: str) -> str:
    """A customer's certificate folder."""
    return join("certificates", customer)


def certificate(customer: str, stem: str, ext: str = "json") -> str:
    """A deletion certificate (json or html)."""
    return join(certificates(customer), f"{stem}.{ext}")


# --- ledger and state -------------------------------------------------------------------------


def ledger(customer: str) -> str:
    """A customer's hash-chained ledger."""
    return join(ledgers(), f"{customer}.jsonl")


def ledgers() -> str:
    """The ledger folder (one file per customer)."""
    return "ledger"


def ledger_heads() -> str:
    """The folder of ledger head records."""
    return join("state", "ledger")


def ledger_head(customer: str) -> str:
    """A customer's ledger head record: the seq and hash of its last entry, signed."""
    return join(ledger_heads(), f"{customer}.head.json")


def ledger_customer(key: str) -> str | None:
    """The customer whose ledger or head record a key is, or None for another key."""
    name = name_of(key)
    if key == ledger(name.removesuffix(".jsonl")):
        return name.removesuffix(".jsonl")
    if key == ledger_head(name.removesuffix(".head.json")):
        return name.removesuffix(".head.json")
    return None


def manifest(customer: str) -> str:
    """A customer's ingest manifest (checksums already ingested)."""
    return join("state", "ingested", f"{customer}.json")


def holds(customer: str) -> str:
    """A customer's hold registry."""
    return join("state", "holds", f"{customer}.json")


def lock(customer: str) -> str:
    """A customer's run lock."""
    return join("state", "locks", f"{customer}.json")


def purge_journal(customer: str) -> str:
    """Changes a purge made that no ledger entry records yet."""
    return join("state", "purge", f"{customer}.journal.json")


# --- subject requests -------------------------------------------------------------------------


def pending_requests(customer: str | None = None) -> str:
    """Pending requests (they hold the selector: restricted zone), all or one customer's."""
    return join("restricted", "requests", customer or "")


def pending_request(customer: str, request_id: str) -> str:
    """A pending request."""
    return join(pending_requests(customer), f"{request_id}.json")


def request_of(key: str) -> str:
    """The request id a request key names."""
    return name_of(key).removesuffix(".json")


def exports(customer: str) -> str:
    """A customer's export bundles."""
    return join("restricted", "exports", customer)


def export_folder(customer: str, request_id: str) -> str:
    """Where the flow puts an export bundle (it holds the person's data: restricted zone)."""
    return join(exports(customer), request_id)


def export_object(customer: str, request_id: str, name: str) -> str:
    """One file of an export bundle."""
    return join(export_folder(customer, request_id), name)


def export_request(key: str) -> str:
    """The request id of an export bundle's object."""
    return key.split("/")[3]


def request_records(customer: str) -> str:
    """Completed request records (no identifier)."""
    return join("state", "requests", customer)


def request_record(customer: str, request_id: str) -> str:
    """A completed request's record."""
    return join(request_records(customer), f"{request_id}.json")


# --- run ids ----------------------------------------------------------------------------------


def new_run_id(now: datetime) -> str:
    """A sortable run id: 20261128T021500Z-<6 random hex>."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_date(run_id: str) -> date | None:
    """The date a run id (20261128T021500Z-abcdef), or a name starting with one, begins with."""
    try:
        return datetime.strptime(run_id[:8], "%Y%m%d").date()
    except ValueError:
        return None
