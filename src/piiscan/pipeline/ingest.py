"""Ingest: delivered carrier files -> canonical Parquet in the restricted zone.

One delivered file (a zip counts as one) is all-or-nothing: its rows land, or the file goes to
quarantine with a reason and nothing of it lands. Rows that fail validation go to quarantine with
their line numbers while the file's good rows land. A file already ingested (same SHA-256) is
skipped, and output names derive from the checksum, so a rerun never duplicates rows.

Every file ends landed (some rows landed), quarantined (a reason code and a sentence naming the
file and what was expected) or skipped; a file none of whose rows landed is quarantined
(`no_rows_landed`), never counted as ingested. Per file, rows delivered = landed + rejected +
reference (summary and reference rows that inform other rows, Verizon AccountSummary).
Whatever a file holds, it ends so and the batch goes on (piiscan.ingest.parse); a file whose name
cannot be a lake key (`bad_name`) is quarantined under a shortened name.

Landing integrity: a symbolic link is never followed (quarantined as `symlink`: a reason, no
content), a path in the lake other than the customer's own landing folder is refused, a file
whose layout's carrier the customer has no contract with is quarantined
(`carrier_not_contracted`), and staging objects are left to purge. A file identical to one
already ingested except for its line endings is skipped (`content_sha256`), and a landed file
supersedes the rows earlier files landed for the same invoices (piiscan.pipeline.supersede).
A landing object the manifest has seen, unchanged since (its storage fingerprint: local size,
mtime and inode; S3 ETag and size), is skipped without being read, so a night with nothing new
reads no delivered file.
Manifest updates are compare-and-swap (piiscan.lake.manifest); callers hold the customer lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from piiscan.errors import (
    RECOGNISED_REPORTS,
    IngestError,
    LinkRefusedError,
    NotFoundError,
    PiiscanError,
)
from piiscan.ingest.parse import Outputs, Stopped, Tally, parse_file
from piiscan.lake import keys
from piiscan.lake.keyring import LedgerKey
from piiscan.lake.manifest import Manifest, load_manifest, update_manifest
from piiscan.layouts import LAYOUTS, Layout
from piiscan.pipeline.supersede import supersede, supersede_apply_id
from piiscan.policy import Customer, IngestLimits
from piiscan.storage import Storage
from piiscan.types import FileResult, IngestSummary

Progress = Callable[[str], None]
# A delivered name longer than this cannot name its quarantine objects (`<name>.reason.json`,
# `<name>.rejected-<n>.parquet`, their temporary siblings) within a file system's 255 bytes.
MAX_NAME_BYTES = 200


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Digest:
    """SHA-256 of a file's bytes, and of its content with line endings made LF (a file whose
    first block holds a NUL byte is binary: its content digest is its byte digest)."""

    def __init__(self) -> None:
        self.raw = hashlib.sha256()
        self.text = hashlib.sha256()
        self.binary: bool | None = None
        self.cr = False  # the previous block ended with CR

    def update(self, block: bytes) -> None:
        self.raw.update(block)
        if self.binary is None:
            self.binary = b"\0" in block[:8192]
        if self.binary:
            return
        if self.cr:
            block = b"\r" + block
        self.cr = block.endswith(b"\r")
        if self.cr:
            block = block[:-1]
        self.text.update(block.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))

    def content(self) -> str:
        if self.binary is not False:
            return self.raw.hexdigest()
        if self.cr:
            self.text.update(b"\n")
            self.cr = False
        return self.text.hexdigest()


def _carriers_of(used: list[str], layouts: Sequence[Layout]) -> set[str]:
    return {lay.carrier for lay in layouts if lay.name in used}


def _carrier_of(used: list[str], layouts: Sequence[Layout]) -> str:
    carriers = {lay.carrier for lay in layouts if lay.name in used}
    return carriers.pop() if len(carriers) == 1 else "mixed"


def nothing_landed(name: str, tally: Tally) -> IngestError | None:
    """Why a parsed file that landed no row goes to quarantine (None: some rows landed)."""
    if any(tally.rows.values()):
        return None
    layouts = ", ".join(dict.fromkeys(tally.layouts))
    if tally.delivered == 0:
        problem = f"no data rows after the header (layout {layouts})"
    elif tally.rejected == tally.delivered:
        first = tally.rejections[0] if tally.rejections else None
        shown = f"; first: line {first['line']}: {first['problem']}" if first else ""
        problem = f"all {tally.delivered} row(s) failed validation against layout {layouts}{shown}"
    elif tally.rejected == 0:  # a recognised report without line-level rows
        return IngestError(
            name,
            f"recognised as {layouts}: {tally.reference} account-level or summary row(s), no "
            "line-level data to land",
            code="reference_file",
        )
    else:
        problem = (
            f"{tally.reference} reference or summary row(s) and {tally.rejected} rejected "
            f"row(s), but no data row of layout {layouts} landed"
        )
    return IngestError(name, problem, code="no_rows_landed")


def _seen(entry: dict[str, Any], same_bytes: bool = True) -> str:
    """Why a file already in the manifest is skipped."""
    done = "quarantined as a report without line data" if entry.get("quarantine") else "ingested"
    alike = "" if same_bytes else f" as {entry['file']} (the same content, other line endings)"
    return f"already {done}{alike} in run {entry['run_id']}"


def _name_problem(name: str) -> str | None:
    """Why a delivered file's name cannot be a lake key, or None."""
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_BYTES:
        return f"the file name is {size} bytes; names are at most {MAX_NAME_BYTES} bytes"
    if name in (".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        return "the file name holds a path separator or a control character"
    return None


def _stored_name(name: str, checksum: str) -> str:
    """The name a file is kept under in quarantine: as delivered when it can be a lake key,
    else its printable start and its checksum."""
    if _name_problem(name) is None:
        return name
    kept = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in name)
    start = kept.encode("utf-8", "ignore")[:80].decode("utf-8", "ignore").strip(". ")
    return f"{start or 'file'}~{checksum[:16]}"


def _landing_key(storage: Storage, customer: str, carrier: str, name: str, checksum: str) -> str:
    """Where a delivered file's landing copy goes: its name, or <name>.<checksum> when another
    file holds that name. A key that already holds these very bytes is reused (a run killed
    between the copy and its manifest write left it): a rerun never lands a second copy."""
    plain = keys.landing(customer, carrier, name)
    stem, dot, ext = name.rpartition(".")
    suffixed = keys.landing(
        customer, carrier, f"{stem or ext}.{checksum[:8]}{dot}{ext if stem else ''}"
    )
    for key in (plain, suffixed):
        if not storage.exists(key) or _holds(storage, key, checksum):
            return key
    return suffixed


def _holds(storage: Storage, key: str, checksum: str) -> bool:
    """Whether the object at key has this SHA-256 (a symbolic link never does)."""
    try:
        with storage.local_copy(key) as local:
            return sha256_file(local) == checksum
    except LinkRefusedError:
        return False


def _landings(manifest: Manifest) -> dict[str, tuple[str, str, str]]:
    """Landing key -> (the manifest entry's checksum, the object's own checksum, its
    fingerprint) of every landing object the manifest saw."""
    return {
        key: (checksum, seen["checksum"], seen["fingerprint"])
        for checksum, entry in manifest.items()
        for key, seen in (entry.get("landings") or {}).items()
    }


def _by_content(manifest: Manifest) -> dict[str, str]:
    """Content digest -> checksum of the manifest's files."""
    return {e["content_sha256"]: c for c, e in manifest.items() if e.get("content_sha256")}


class Ingestor:
    """Ingests delivered files for one customer into a lake."""

    def __init__(
        self,
        storage: Storage,
        customer: Customer,
        run_id: str,
        layouts: Sequence[Layout] = LAYOUTS,
        limits: IngestLimits | None = None,
        *,
        now: datetime | None = None,
        ledger_key: LedgerKey | None = None,
    ) -> None:
        self.storage = storage
        self.customer = customer
        self.run_id = run_id
        self.layouts = tuple(layouts)
        self.limits = limits or IngestLimits()
        self.now = now  # when superseding rows is ledgered (None: the entry has no time)
        self.ledger_key = ledger_key
        self.manifest = load_manifest(storage, customer.id)
        self._by_content = _by_content(self.manifest)
        self._landings = _landings(self.manifest)

    def unchanged(self, landing_key: str) -> FileResult | None:
        """A skipped result for a landing object the manifest saw as it is now (same
        fingerprint), without reading it; None when it is new or changed."""
        seen = self._landings.get(landing_key)
        if seen is None:
            return None
        entry, checksum, fingerprint = seen
        try:
            if self.storage.fingerprint(landing_key) != fingerprint:
                return None
        except NotFoundError:
            return None
        return FileResult(
            landing_key.rsplit("/", 1)[-1],
            checksum,
            "skipped",
            reason=_seen(self.manifest[entry], entry == checksum),
            landing_key=landing_key,
        )

    def _seen_at(self, entry: str, checksum: str, landing_key: str | None) -> None:
        """Record that landing_key holds a file of this checksum (of the manifest entry's
        bytes or content), as the object is now."""
        if landing_key is None or entry not in self.manifest:
            return
        try:
            fingerprint = self.storage.fingerprint(landing_key)
        except NotFoundError:
            return
        if self._landings.get(landing_key) == (entry, checksum, fingerprint):
            return
        seen = {"checksum": checksum, "fingerprint": fingerprint}

        def add(manifest: Manifest) -> None:
            if entry in manifest:
                manifest[entry].setdefault("landings", {})[landing_key] = seen

        self._update(add)

    def _known(self, checksum: str | None, content: str | None) -> str | None:
        """The manifest entry of a file with these bytes, or this content (line endings
        aside)."""
        if checksum in self.manifest:
            return checksum
        return self._by_content.get(content) if content is not None else None

    def _update(self, change: Any) -> None:
        """Change the manifest compare-and-swap; ours then holds other writers' entries too."""
        self.manifest = update_manifest(self.storage, self.customer.id, change)
        self._by_content = _by_content(self.manifest)
        self._landings = _landings(self.manifest)

    def _not_contracted(self, name: str, tally: Tally) -> IngestError | None:
        """Why a parsed file's carrier is not the customer's (None: it is)."""
        foreign = sorted(_carriers_of(tally.layouts, self.layouts) - set(self.customer.carriers))
        if not foreign:
            return None
        return IngestError(
            name,
            f"layout {', '.join(dict.fromkeys(tally.layouts))} is a {', '.join(foreign)} file, "
            f"and {self.customer.id} has no contract with {', '.join(foreign)} (carriers in "
            f"configs/customers.yaml: {', '.join(self.customer.carriers)})",
            code="carrier_not_contracted",
        )

    def refuse(self, name: str, code: str, reason: str, landing_key: str | None) -> FileResult:
        """Quarantine a file that must not be read (a symbolic link): its reason only, none
        of its content; a landing link is removed (the link, not what it points at)."""
        reason_key = keys.quarantine_reason(self.customer.id, self.run_id, name)
        body = {"file": name, "checksum": None, "run_id": self.run_id, "code": code}
        self._write_reason(reason_key, {**body, "reason": reason})
        if landing_key is not None:
            self.storage.delete(landing_key)
        return FileResult(
            name, "", "quarantined", reason_code=code, reason=reason, quarantine_key=reason_key
        )

    def ingest_file(
        self, path: Path, *, name: str | None = None, landing_key: str | None = None
    ) -> FileResult:
        """Ingest one local file; landing_key says where it already sits in the lake, if it does."""
        name = name or path.name
        tally = Tally()

        abandoned = threading.Event()

        content: list[str] = []  # the digest of the content, line endings aside

        def checksum_and_copy() -> tuple[str | None, Path | None]:
            digest = _Digest()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    if abandoned.is_set():
                        return None, None
                    digest.update(block)
            checksum = digest.raw.hexdigest()
            content.append(digest.content())
            if abandoned.is_set() or landing_key or self._known(checksum, content[0]):
                return checksum, None
            # The file's copy for landing/ (or quarantine/) is made here too, off the parse's way.
            return checksum, _copy_to_temp(path)

        # The checksum is computed while the file is parsed (hashing and parsing each keep a
        # core busy); a file found already ingested stops the parse at its next block.
        with (
            ThreadPoolExecutor(1, thread_name_prefix="piiscan-sha256") as pool,
            tempfile.TemporaryDirectory(prefix="piiscan-ingest-") as tmp,
        ):
            background = pool.submit(checksum_and_copy)
            taken: tuple[str | None, Path | None] | None = None
            try:
                outputs = Outputs(
                    Path(tmp),
                    stop=lambda: (
                        background.done()
                        and self._known(background.result()[0], content[0] if content else None)
                        is not None
                    ),
                )
                failure = None
                try:
                    bad_name = _name_problem(name)
                    if bad_name is not None:
                        raise IngestError(name, bad_name, code="bad_name")
                    parse_file(name, path, outputs, tally, self.layouts, self.limits)
                    outputs.finish()
                    failure = nothing_landed(name, tally)
                except Stopped:
                    pass
                except IngestError as exc:
                    failure = exc
                finally:
                    outputs.close()
                taken = background.result()
                checksum, copy = taken
                assert checksum is not None  # only an abandoned hash has none
                seen = self._known(checksum, content[0])
                if seen is not None:
                    self._seen_at(seen, checksum, landing_key)
                    return FileResult(
                        name,
                        checksum,
                        "skipped",
                        reason=_seen(self.manifest[seen], seen == checksum),
                        landing_key=landing_key,
                    )
                failure = failure or self._not_contracted(name, tally)
                if failure is not None:
                    return self._quarantine(path, name, checksum, failure, landing_key, copy, tally)
                return self._commit(
                    path, name, (checksum, content[0]), outputs, tally, landing_key, copy
                )
            finally:
                # The copy holds the delivered file (personal data): never leave it behind, also
                # when the parse raised something unexpected.
                if taken is None:
                    abandoned.set()
                    with contextlib.suppress(Exception):
                        taken = background.result()
                if taken is not None and taken[1] is not None:
                    taken[1].unlink(missing_ok=True)  # storage moved it away if it kept it

    def _commit(
        self,
        path: Path,
        name: str,
        digests: tuple[str, str],
        outputs: Outputs,
        tally: Tally,
        landing_key: str | None,
        copy: Path | None,
    ) -> FileResult:
        checksum, content = digests
        carrier = _carrier_of(tally.layouts, self.layouts)
        written = []
        for dataset, period, local in outputs.partitions():
            key = keys.partition_file(
                "restricted", dataset, self.customer.id, period, checksum[:16]
            )
            self.storage.put_file(local, key)
            written.append(key)
        quarantine_key = None
        if outputs.rejected:
            rejected_files = {}  # file or archive member -> its rejected rows
            for index, (unit, (_, local)) in enumerate(outputs.rejected.items()):
                rejected_files[unit] = f"{name}.rejected-{index}.parquet"
                self.storage.put_file(
                    local, keys.quarantine(self.customer.id, self.run_id, rejected_files[unit])
                )
            quarantine_key = keys.quarantine_reason(self.customer.id, self.run_id, name)
            self._write_reason(
                quarantine_key,
                {
                    "file": name,
                    "checksum": checksum,
                    "run_id": self.run_id,
                    "code": "rejected_rows",
                    "reason": f"{tally.rejected} row(s) failed validation; "
                    "the file's other rows landed",
                    "rows_rejected": tally.rejected,
                    "rows_delivered": tally.delivered,
                    "rejections": tally.rejections,
                    "rejected_rows_files": rejected_files,
                },
            )
        if landing_key is None:
            landing_key = _landing_key(self.storage, self.customer.id, carrier, name, checksum)
            self.storage.put_file(copy or _copy_to_temp(path), landing_key)
        # A re-sent invoice replaces the rows earlier files landed for it (both zones, ledgered).
        supersede(
            self.storage,
            self.customer.id,
            written,
            {"file": name, "checksum": checksum, "run_id": self.run_id},
            supersede_apply_id(self.run_id, checksum),
            self.now,
            self.ledger_key,
        )
        entry = {
            "file": name,
            "run_id": self.run_id,
            "layouts": tally.layouts,
            "rows": tally.rows,
            "rows_rejected": tally.rejected,
            "rows_reference": tally.reference,
            "outputs": written,
            "landing": landing_key,
            "content_sha256": content,
            # Where it sits and how it is now: unchanged, later nights skip it unread.
            "landings": {
                landing_key: {
                    "checksum": checksum,
                    "fingerprint": self.storage.fingerprint(landing_key),
                }
            },
        }

        def add(manifest: Manifest) -> None:
            manifest[checksum] = entry

        self._update(add)
        return FileResult(
            name,
            checksum,
            "ingested",
            tuple(tally.layouts),
            carrier,
            tally.rows,
            tally.rejected,
            tally.reference,
            tally.delivered,
            tuple(tally.choices),
            landing_key=landing_key,
            quarantine_key=quarantine_key,
            outputs=tuple(written),
        )

    def _quarantine(
        self,
        path: Path,
        name: str,
        checksum: str,
        exc: IngestError,
        landing_key: str | None,
        copy: Path | None,
        tally: Tally,
    ) -> FileResult:
        stored = _stored_name(name, checksum)
        self.storage.put_file(
            copy or _copy_to_temp(path), keys.quarantine(self.customer.id, self.run_id, stored)
        )
        reason_key = keys.quarantine_reason(self.customer.id, self.run_id, stored)
        self._write_reason(
            reason_key,
            {
                "file": name,
                "checksum": checksum,
                "run_id": self.run_id,
                "code": exc.code,
                "reason": str(exc),
                "rows_delivered": tally.delivered,
                "rows_rejected": tally.rejected,
                "rows_reference": tally.reference,
                "rejections": tally.rejections,
            },
        )
        if exc.code in RECOGNISED_REPORTS:
            # A report recognised as holding no line rows is what it is: the same bytes sent
            # again are skipped, not quarantined once more.
            entry: dict[str, Any] = {
                "file": name,
                "run_id": self.run_id,
                "layouts": tally.layouts,
                "rows": {},
                "outputs": [],
                "landing": None,
                "quarantine": reason_key,
            }

            def add(manifest: Manifest) -> None:
                manifest[checksum] = entry

            self._update(add)
        if landing_key is not None:  # the file moves from landing to quarantine
            self.storage.delete(landing_key)
        # Nothing of a quarantined file lands: its rows all count as rejected with it.
        return FileResult(
            name,
            checksum,
            "quarantined",
            tuple(tally.layouts),
            rows_rejected=tally.delivered - tally.reference,
            rows_reference=tally.reference,
            rows_delivered=tally.delivered,
            choices=tuple(tally.choices),
            reason_code=exc.code,
            reason=str(exc),
            quarantine_key=reason_key,
        )

    def _write_reason(self, key: str, body: dict[str, Any]) -> None:
        self.storage.write_bytes(key, (json.dumps(body, indent=1, default=str) + "\n").encode())


def _copy_to_temp(path: Path) -> Path:
    """A temporary copy that storage.put_file may move away."""
    fd, tmp = tempfile.mkstemp(prefix="piiscan-copy-")
    os.close(fd)
    shutil.copyfile(path, tmp)
    return Path(tmp)


def ingest_paths(
    storage: Storage,
    customer: Customer,
    paths: list[Path],
    run_id: str,
    progress: Progress | None = None,
    layouts: Sequence[Layout] = LAYOUTS,
    limits: IngestLimits | None = None,
    *,
    now: datetime | None = None,
    ledger_key: LedgerKey | None = None,
) -> IngestSummary:
    """Ingest local files delivered for a customer; each lands in landing/ or quarantine/.
    A path in the lake other than the customer's own landing folder is refused (PiiscanError,
    nothing ingested); files of the customer's landing folder are ingested where they are."""
    in_landing = own_landing_keys(storage, customer.id, paths)
    ingestor = Ingestor(storage, customer, run_id, layouts, limits, now=now, ledger_key=ledger_key)
    results = []
    for path in paths:
        if progress:
            progress(path.name)
        if _is_link(path):
            results.append(ingestor.refuse(path.name, "symlink", _LINK, in_landing.get(path)))
        else:
            results.append(ingestor.ingest_file(path, landing_key=in_landing.get(path)))
    return IngestSummary(customer.id, run_id, tuple(results))


_LINK = (
    "a symbolic link: never followed (it may point at another customer's file); "
    "deliver the file itself"
)


def _is_link(path: Path) -> bool:
    return path.is_symlink()


def own_landing_keys(storage: Storage, customer: str, paths: Sequence[Path]) -> dict[Path, str]:
    """The landing keys of paths that are files of the customer's own landing folder of a local
    lake; PiiscanError for a path anywhere else in the lake (another customer's landing folder,
    a zone, quarantine): ingesting it would file its rows under the wrong customer or twice."""
    root = storage.uri(keys.area("landing"))
    if "://" in root:
        return {}
    landing = Path(root)
    lake = landing.parent
    found = {}
    for path in paths:
        where = path.parent.resolve() / path.name  # a link named stays the link
        if lake != where and lake not in where.parents:
            continue
        relative = where.relative_to(lake).parts
        if len(relative) >= 3 and relative[0] == "landing" and relative[1] == customer:
            found[path] = "/".join(relative)
            continue
        owner = relative[1] if relative[0] == "landing" and len(relative) > 1 else None
        whose = f"{owner}'s landing folder" if owner else f"the lake's {relative[0]} area"
        raise PiiscanError(
            f"{path} is in {whose}: refused (only files delivered for {customer}, or "
            f"{customer}'s own landing folder, are ingested as {customer}'s)"
        )
    return found


def ingest_landing(
    storage: Storage,
    customer: Customer,
    run_id: str,
    progress: Progress | None = None,
    layouts: Sequence[Layout] = LAYOUTS,
    limits: IngestLimits | None = None,
    *,
    now: datetime | None = None,
    ledger_key: LedgerKey | None = None,
) -> IngestSummary:
    """Ingest the files waiting in landing/<customer>/ that are not ingested yet. Staging
    objects (a write in progress, or killed) are left to purge; a symbolic link is quarantined
    unread."""
    ingestor = Ingestor(storage, customer, run_id, layouts, limits, now=now, ledger_key=ledger_key)
    results = []
    for key in list(storage.list(keys.landing(customer.id))):
        if keys.is_staging(key):
            continue
        name = key.rsplit("/", 1)[-1]
        if progress:
            progress(name)
        unchanged = ingestor.unchanged(key)
        if unchanged is not None:
            results.append(unchanged)
            continue
        try:
            with storage.local_copy(key) as local:
                results.append(ingestor.ingest_file(local, name=name, landing_key=key))
        except LinkRefusedError:
            results.append(ingestor.refuse(name, "symlink", _LINK, key))
    return IngestSummary(customer.id, run_id, tuple(results))


def new_deliveries(storage: Storage, customer: Customer) -> int:
    """How many landing objects of the customer the next ingest would read (new, or changed
    since the manifest saw them); reads the manifest and the listing only."""
    ingestor = Ingestor(storage, customer, "")
    return sum(
        1
        for key in storage.list(keys.landing(customer.id))
        if not keys.is_staging(key) and ingestor.unchanged(key) is None
    )


def collect_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and files under named folders (sorted); skips expected.json.
    Symbolic links are collected, not followed (ingest refuses them with a reason); a
    folder's staging objects are skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            inside = []
            for folder, subfolders, files in os.walk(path):  # never descends into a link
                links = [d for d in subfolders if (Path(folder) / d).is_symlink()]
                inside += [Path(folder) / name for name in (*files, *links)]
            found += sorted(
                p for p in inside if p.name != "expected.json" and not keys.is_staging(p.name)
            )
        else:
            found.append(path)
    return found


def deliver(storage: Storage, customer: str, carrier: str, path: Path) -> str:
    """Put a carrier file into landing/<customer>/<carrier>/ as delivered; returns its key."""
    key = keys.landing(customer, carrier, path.name)
    storage.put_file(_copy_to_temp(path), key)
    return key
