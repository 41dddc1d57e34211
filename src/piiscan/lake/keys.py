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
reports/<customer>/<run id>.failed.json             a run that failed before its report (reason)
reports/index.json and .html                         every customer's latest run, kept by each run
certificates/<customer>/<effective date>[-<n>].json and .html   append-only: a rerun adds -2, -3...
ledger/<customer>.jsonl
state/ingested/<customer>.json                       the ingest manifest
state/holds/<customer>.json                          audit and legal holds
state/locks/<customer>.json                          the customer's run lock
state/purge/<customer>.journal.json                  changes not yet ledgered
state/ledger/<customer>.head.json                    the ledger's signed head (seq, hash)
state/requests/<customer>/<request id>.json          completed request records (no identifier)
state/terminations/<customer>.json                   termination: scheduled or applied, key state
state/review/<customer>.json                         quarantine items a reviewer resolved
state/detections/<customer>.json                     findings per dataset and what they came from
```
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from piiscan.errors import PiiscanError
from piiscan.schema import DATASETS
from piiscan.storage.base import is_staging as is_staging  # pipeline code asks keys
from piiscan.storage.base import join

ZONES = ("restricted", "analytics")
_CUSTOMER = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # as policy.CustomerId
_RUN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")  # run and request ids: one safe part
_CARRIER = re.compile(r"[a-z0-9][a-z0-9_&-]{0,39}")
_CERTIFICATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-([1-9]\d{0,5}))?")
_PERIOD = re.compile(r"\d{4}-\d{2}")


def _checked(value: str, pattern: re.Pattern[str], what: str, expected: str) -> str:
    """value if it is a well-formed key part; a path part from outside (an option, a
    parameter) can never walk out of its folder."""
    if not pattern.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise PiiscanError(f"{what} {shown!r} is not valid: expected {expected}")
    return value


def customer_id(value: str) -> str:
    """A customer id as it may appear in a key."""
    return _checked(value, _CUSTOMER, "customer id", "lower-case letters, digits, - and _")


def run_id(value: str) -> str:
    """A run or request id as it may appear in a key."""
    return _checked(
        value, _RUN, "run id", "letters, digits, - and _ (e.g. 20261128T021500Z-a1b2c3)"
    )


def _name(value: str) -> str:
    """A delivered file's name (one path part)."""
    if not value or value in (".", "..") or "/" in value or "\\" in value or "\0" in value:
        raise PiiscanError(f"file name {value[:40]!r} is not valid: expected one path part")
    return value


AREAS = ("landing", *ZONES, "quarantine", "reports", "certificates", "ledger", "state")


def area(name: str) -> str:
    """A top-level folder of the lake (PiiscanError for any other name)."""
    if name not in AREAS:
        raise PiiscanError(f"unknown lake area {name!r}; expected one of {', '.join(AREAS)}")
    return name


def customer_prefixes(customer: str) -> list[str]:
    """Every folder holding one customer's objects that a purge may touch (zones, landing,
    quarantine, reports, exports, requests; not certificates): where staging objects left by
    a killed write are looked for."""
    return [
        *(dataset_folder(z, d, customer) for z in ZONES for d in DATASETS),
        landing(customer),
        quarantine(customer),
        reports(customer),
        exports(customer),
        pending_requests(customer),
        request_records(customer),
    ]


def name_of(key: str) -> str:
    """The last part of a key (a file name)."""
    return key.rsplit("/", 1)[-1]


# --- landing ----------------------------------------------------------------------------------


def landing(customer: str, carrier: str | None = None, name: str | None = None) -> str:
    """A customer's landing folder, one carrier's, or one delivered file."""
    return join(
        "landing",
        customer_id(customer),
        _checked(carrier, _CARRIER, "carrier", "lower-case letters and digits") if carrier else "",
        _name(name) if name else "",
    )


# --- the two zones ----------------------------------------------------------------------------


def dataset_folder(zone: str, dataset: str, customer: str | None = None) -> str:
    """A dataset's folder in a zone, or one customer's part of it."""
    if zone not in ZONES:
        raise PiiscanError(f"unknown zone {zone!r}; expected one of {', '.join(ZONES)}")
    if dataset not in DATASETS:
        raise PiiscanError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return join(zone, dataset, f"customer={customer_id(customer)}" if customer else "")


def partition_file(zone: str, dataset: str, customer: str, period: str, stem: str) -> str:
    """One Parquet file of a dataset partition."""
    period = _checked(period, _PERIOD, "period", "YYYY-MM")
    return join(
        dataset_folder(zone, dataset, customer), f"period={period}", f"{_name(stem)}.parquet"
    )


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


def quarantine(customer: str, run: str | None = None, name: str | None = None) -> str:
    """A customer's quarantine, one run's folder, or one quarantined object."""
    return join(
        "quarantine", customer_id(customer), run_id(run) if run else "", _name(name) if name else ""
    )


def quarantine_reason(customer: str, run: str, name: str) -> str:
    """The reason document beside a quarantined file."""
    return quarantine(customer, run, f"{name}.reason.json")


def rejected_rows_prefix(customer: str, run: str, name: str) -> str:
    """What the keys of a file's rejected-rows Parquet objects start with."""
    return quarantine(customer, run, f"{name}.rejected-")


def is_rejected_rows(key: str) -> bool:
    """Whether a quarantine key holds rejected rows (Parquet, as delivered)."""
    return ".rejected-" in name_of(key) and key.endswith(".parquet")


def quarantine_run(key: str) -> str:
    """The run id of a quarantine key."""
    return key.split("/")[2]


def is_quarantine_reason(key: str) -> bool:
    """Whether a quarantine key is a reason document."""
    return key.endswith(".reason.json")


def quarantine_item(key: str) -> str:
    """A reason document's review item id: `<run id>/<name>` (what `review resolve` takes)."""
    return f"{quarantine_run(key)}/{name_of(key).removesuffix('.reason.json')}"


def quarantine_item_reason(customer: str, item: str) -> str:
    """The reason document of a review item id (PiiscanError when the id is malformed)."""
    run, _, name = item.partition("/")
    if not name:
        raise PiiscanError(f"item {item[:80]!r} is not valid: expected <run id>/<file name>")
    return quarantine_reason(customer, run_id(run), _name(name))


def review_state(customer: str) -> str:
    """The quarantine items a reviewer resolved for a customer."""
    return join("state", "review", f"{customer_id(customer)}.json")


# --- reports and certificates -----------------------------------------------------------------


def reports(customer: str) -> str:
    """A customer's report folder."""
    return join("reports", customer_id(customer))


def report(customer: str, run: str, ext: str = "json") -> str:
    """A run's report (json or html)."""
    return join(reports(customer), f"{run_id(run)}.{ext}")


def report_run(key: str) -> str:
    """The run id a report or failure key names."""
    name = name_of(key)
    return name.removesuffix(FAILED) if name.endswith(FAILED) else name.rsplit(".", 1)[0]


FAILED = ".failed.json"
INDEX_FORMATS = ("json", "html")


def failure(customer: str, run: str) -> str:
    """The failure record of a run that ended without a report (its PII-free reason)."""
    return join(reports(customer), f"{run_id(run)}{FAILED}")


def is_failure(key: str) -> bool:
    """Whether a key under reports/ is a failure record (not a report)."""
    return name_of(key).endswith(FAILED)


def report_index(ext: str = "json") -> str:
    """The index of every customer's reports (json or html), in reports/ itself."""
    if ext not in INDEX_FORMATS:
        raise PiiscanError(f"unknown index format {ext!r}; expected json or html")
    return join(area("reports"), f"index.{ext}")


def certificates(customer: str) -> str:
    """A customer's certificate folder."""
    return join("certificates", customer_id(customer))


def certificate(customer: str, stem: str, ext: str = "json") -> str:
    """A deletion certificate (json or html): stem is its effective date, and -<n> for the
    n-th certificate of a termination rerun (certificate_stem builds it)."""
    stem = _checked(stem, _CERTIFICATE, "certificate name", "YYYY-MM-DD or YYYY-MM-DD-<n>")
    return join(certificates(customer), f"{stem}.{ext}")


def certificate_stem(effective: str, number: int) -> str:
    """The name of a termination's n-th certificate: the date, then -2, -3... for reruns."""
    return effective if number == 1 else f"{effective}-{number}"


def certificate_number(key: str) -> tuple[str, int] | None:
    """(effective date, n) of a certificate's JSON key, or None for another key."""
    name = name_of(key)
    if not name.endswith(".json"):
        return None
    found = _CERTIFICATE.fullmatch(name.removesuffix(".json"))
    if found is None:
        return None
    return found.group(1), int(found.group(2) or 1)


# --- ledger and state -------------------------------------------------------------------------


def ledger(customer: str) -> str:
    """A customer's hash-chained ledger."""
    return join(ledgers(), f"{customer_id(customer)}.jsonl")


def ledgers() -> str:
    """The ledger folder (one file per customer)."""
    return "ledger"


def ledger_heads() -> str:
    """The folder of ledger head records."""
    return join("state", "ledger")


def ledger_head(customer: str) -> str:
    """A customer's ledger head record: the seq and hash of its last entry, signed."""
    return join(ledger_heads(), f"{customer_id(customer)}.head.json")


def ledger_customer(key: str) -> str | None:
    """The customer whose ledger or head record a key is, or None for another key."""
    name = name_of(key)
    for customer, build in (
        (name.removesuffix(".jsonl"), ledger),
        (name.removesuffix(".head.json"), ledger_head),
    ):
        if _CUSTOMER.fullmatch(customer) and key == build(customer):
            return customer
    return None


def analytics_sources(customer: str) -> str:
    """What each of a customer's analytics files was made from (incremental nights)."""
    return join("state", "analytics", f"{customer_id(customer)}.json")


def detections(customer: str) -> str:
    """What detection found per dataset of a customer, and from which files (incremental)."""
    return join("state", "detections", f"{customer_id(customer)}.json")


def manifest(customer: str) -> str:
    """A customer's ingest manifest (checksums already ingested)."""
    return join("state", "ingested", f"{customer_id(customer)}.json")


def holds(customer: str) -> str:
    """A customer's hold registry."""
    return join("state", "holds", f"{customer_id(customer)}.json")


def lock(customer: str) -> str:
    """A customer's run lock."""
    return join("state", "locks", f"{customer_id(customer)}.json")


def purge_journal(customer: str) -> str:
    """Changes a purge made that no ledger entry records yet."""
    return join("state", "purge", f"{customer_id(customer)}.journal.json")


def doctor_probe(stamp: str) -> str:
    """The object `piiscan doctor` writes and deletes to check the lake is writable."""
    return join("state", "doctor", f"probe-{_name(stamp)}")


def terminations() -> str:
    """The folder of termination records."""
    return join("state", "terminations")


def termination(customer: str) -> str:
    """A customer's termination record: scheduled or applied, certificates, key state."""
    return join(terminations(), f"{customer_id(customer)}.json")


# --- subject requests -------------------------------------------------------------------------


def pending_requests(customer: str | None = None) -> str:
    """Pending requests (they hold the selector: restricted zone), all or one customer's."""
    return join("restricted", "requests", customer_id(customer) if customer else "")


def pending_request(customer: str, request: str) -> str:
    """A pending request."""
    return join(pending_requests(customer), f"{run_id(request)}.json")


def request_of(key: str) -> str:
    """The request id a request key names."""
    return name_of(key).removesuffix(".json")


def exports(customer: str) -> str:
    """A customer's export bundles."""
    return join("restricted", "exports", customer_id(customer))


def export_folder(customer: str, request: str) -> str:
    """Where the flow puts an export bundle (it holds the person's data: restricted zone)."""
    return join(exports(customer), run_id(request))


def export_object(customer: str, request: str, name: str) -> str:
    """One file of an export bundle."""
    return join(export_folder(customer, request), _name(name))


def export_request(key: str) -> str:
    """The request id of an export bundle's object."""
    return key.split("/")[3]


def request_records(customer: str) -> str:
    """Completed request records (no identifier)."""
    return join("state", "requests", customer_id(customer))


def request_record(customer: str, request: str) -> str:
    """A completed request's record."""
    return join(request_records(customer), f"{run_id(request)}.json")


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
