"""A lake on S3 or any S3-compatible server: the only module that imports boto3.

Configuration follows boto3's conventions: the standard credential chain, `AWS_ENDPOINT_URL` for
an S3-compatible server, `AWS_REGION`. Transient failures (throttling, 5xx, dropped connections)
are retried by botocore's standard retry mode with exponential backoff (`AWS_MAX_ATTEMPTS`,
default 5); what still fails becomes a StorageError naming the object, marked transient when a
later attempt may succeed. Every PUT is atomic on S3: readers see the old object or the new one.

Deletion is true deletion. On a bucket that has ever had versioning enabled, a plain DELETE only
adds a delete marker and the data stays in older versions, so `delete` removes every version and
delete marker of the key (checking each key's error in the batch reply) and then verifies that
none remains. `rewrite` replaces an object that holds personal data the way AWS's S3 Find and
Forget does: it checks the current version is the content the caller planned from, writes the new
content conditionally, checks no other writer slipped a version in between (rolling its own
version back if one did), then deletes every older version.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from piiscan.errors import NotFoundError, StorageError
from piiscan.storage.base import FOOTER_GUESS, footer_length, metadata_from_footer

if TYPE_CHECKING:
    import pyarrow.parquet as pq

NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
TRANSIENT = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "500",
    "502",
    "503",
    "504",
}
DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes
MB = 1024 * 1024
Versions = list[dict[str, Any]]  # (a method below is named `list`)


def parse_lake(lake: str) -> tuple[str, str]:
    """(bucket, key prefix) of s3://bucket/prefix."""
    rest = lake.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise StorageError(lake, "expected s3://bucket/prefix")
    return bucket, prefix.strip("/")


class S3Storage:
    """Storage rooted at s3://bucket/prefix."""

    def __init__(self, lake: str, client: Any = None, page_size: int = 1000) -> None:
        self.bucket, self.root = parse_lake(lake)
        self.page_size = page_size
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS", "5"))
        self.client = client or boto3.client(
            "s3",
            config=Config(
                retries={"mode": "standard", "max_attempts": attempts},
                connect_timeout=float(os.environ.get("PIISCAN_S3_CONNECT_TIMEOUT", "10")),
                read_timeout=float(os.environ.get("PIISCAN_S3_READ_TIMEOUT", "60")),
            ),
        )
        threshold = int(os.environ.get("PIISCAN_S3_MULTIPART_MB", "64")) * MB
        self.transfer = TransferConfig(
            multipart_threshold=threshold, multipart_chunksize=max(threshold // 4, 5 * MB)
        )
        self._versioned: bool | None = None

    # -- addresses and errors ------------------------------------------------------------

    def _key(self, key: str) -> str:
        key = key.strip("/")
        if ".." in key.split("/"):
            raise StorageError(
                f"s3://{self.bucket}/{self.root}", f"key {key!r} escapes the lake root"
            )
        return f"{self.root}/{key}" if self.root else key

    def _relative(self, full: str) -> str:
        return full[len(self.root) + 1 :] if self.root else full

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key) if key else self.root}".rstrip("/")

    def _error(self, key: str, exc: Exception, doing: str) -> StorageError:
        """piiscan's error for a boto3 failure (messages name the object, never content)."""
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in NOT_FOUND or (status == "404" and doing != "write"):
                return NotFoundError(self.uri(key))
            transient = code in TRANSIENT or status in TRANSIENT
            message = error.get("Message") or code
            return StorageError(
                self.uri(key), f"{doing} failed: {code} {message}", transient=transient
            )
        if isinstance(exc, BotoCoreError):
            return StorageError(
                self.uri(key),
                f"{doing} failed: S3 endpoint unavailable ({type(exc).__name__})",
                transient=True,
            )
        return StorageError(self.uri(key), f"{doing} failed: {type(exc).__name__}")

    # -- the Storage protocol -------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))[
                "Body"
            ].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "read") from None
        return body

    def _tail(self, key: str, length: int) -> tuple[bytes, int]:
        """The object's last length bytes (all of it when shorter) and its size."""
        try:
            reply = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes=-{length}"
            )
            body: bytes = reply["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "read") from None
        total = str(reply.get("ContentRange", "")).rpartition("/")[2]
        return body, int(total) if total.isdigit() else len(body)

    def parquet_metadata(self, key: str) -> pq.FileMetaData:
        """Two ranged GETs at most: the last 64 KiB, then the whole footer if it is longer."""
        tail, size = self._tail(key, FOOTER_GUESS)
        length = footer_length(self.uri(key), tail, size)
        if length > len(tail):
            tail, _ = self._tail(key, length)
        return metadata_from_footer(self.uri(key), tail[-length:])

    def write_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "write") from None

    def create(self, key: str, data: bytes) -> bool:
        """A conditional PUT (`If-None-Match: *`): S3 and S3-compatible servers refuse it with
        412 when the key exists, or 409 while another conditional write of it is in flight."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise self._error(key, exc, "write") from None
        except BotoCoreError as exc:
            raise self._error(key, exc, "write") from None
        return True

    def put_file(self, source: Path, key: str) -> None:
        """Upload a finished local file (multipart above the threshold), then remove it."""
        try:
            self.client.upload_file(str(source), self.bucket, self._key(key), Config=self.transfer)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "write") from None
        except boto3.exceptions.S3UploadFailedError as exc:
            raise StorageError(self.uri(key), f"write failed: {exc}", transient=True) from None
        source.unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="piiscan-s3-") as tmp:
            path = Path(tmp) / key.rsplit("/", 1)[-1]
            try:
                self.client.download_file(
                    self.bucket, self._key(key), str(path), Config=self.transfer
                )
            except (ClientError, BotoCoreError) as exc:
                raise self._error(key, exc, "read") from None
            yield path

    def fingerprint(self, key: str) -> str:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "read") from None
        etag = str(head["ETag"]).strip('"')
        return f"{etag}-{head['ContentLength']}"

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            error = self._error(key, exc, "read")
            if isinstance(error, NotFoundError):
                return False
            raise error from None
        except BotoCoreError as exc:
            raise self._error(key, exc, "read") from None
        return True

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under a folder-like prefix, sorted (S3 lists in UTF-8 binary order already)."""
        folder = (
            self._key(prefix) + "/" if prefix.strip("/") else (self.root + "/" if self.root else "")
        )
        keys: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, PaginationConfig={"PageSize": self.page_size}
            )
            for page in pages:
                keys.extend(self._relative(item["Key"]) for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(prefix, exc, "list") from None
        return iter(sorted(keys))

    def delete(self, key: str) -> None:
        """Remove the object; on a versioned bucket every version and delete marker of it."""
        full = self._key(key)
        try:
            if not self.versioned():
                self.client.delete_object(Bucket=self.bucket, Key=full)
                return
            self._delete_versions(key, self.versions(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "delete") from None
        left = self.versions(key)
        if left:
            raise StorageError(self.uri(key), f"delete failed: {len(left)} version(s) remain")

    # -- versions, and rewriting personal data ----------------------------------------------

    def versioned(self) -> bool:
        """Whether the bucket has versioning enabled or suspended (old versions may exist)."""
        if self._versioned is None:
            try:
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            except (ClientError, BotoCoreError) as exc:
                raise self._error("", exc, "read bucket versioning") from None
            self._versioned = status in ("Enabled", "Suspended")
        return self._versioned

    def versions(self, key: str) -> Versions:
        """Every version of exactly this key as S3 lists them (newest first), then its delete
        markers."""
        full = self._key(key)
        found: Versions = []
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=full
            )
            for page in pages:
                for kind in ("Versions", "DeleteMarkers"):
                    for item in page.get(kind, []):
                        if item["Key"] == full:
                            found.append({**item, "DeleteMarker": kind == "DeleteMarkers"})
        except (ClientError, BotoCoreError) as exc:
            raise self._error(key, exc, "list versions") from None
        found.sort(key=lambda v: bool(v["DeleteMarker"]))  # stable: S3's order within each kind
        return found

    def _delete_versions(self, key: str, versions: Versions) -> None:
        """DeleteObjects in batches; any key's error in a reply fails the whole delete."""
        full = self._key(key)
        for start in range(0, len(versions), DELETE_BATCH):
            batch = [
                {"Key": full, "VersionId": v["VersionId"]}
                for v in versions[start : start + DELETE_BATCH]
            ]
            reply = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            errors = reply.get("Errors", [])
            if errors:
                codes = sorted({str(e.get("Code")) for e in errors})
                raise StorageError(
                    self.uri(key),
                    f"delete failed for {len(errors)} version(s): {', '.join(codes)}",
                    transient=all(c in TRANSIENT for c in codes),
                )

    def rewrite(self, source: Path, key: str, expected_sha256: str) -> None:
        """Replace an object holding personal data with `source`, leaving no older version.

        Fails (StorageError) without changing anything if the object is no longer the content
        the caller planned from; rolls its own write back if another writer created a version
        between the check and the write.
        """
        full = self._key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=full)
            planned = head.get("VersionId")
            current = self.client.get_object(
                Bucket=self.bucket, Key=full, **({"VersionId": planned} if planned else {})
            )
            digest = hashlib.sha256()
            for chunk in current["Body"].iter_chunks(8 * MB):
                digest.update(chunk)
            if digest.hexdigest() != expected_sha256:
                raise StorageError(self.uri(key), "rewrite refused: changed since it was planned")
            with source.open("rb") as handle:
                written = self.client.put_object(
                    Bucket=self.bucket, Key=full, Body=handle, IfMatch=head["ETag"]
                )
        except (ClientError, BotoCoreError) as exc:
            error = self._error(key, exc, "rewrite")
            if isinstance(exc, ClientError) and "PreconditionFailed" in str(exc):
                error = StorageError(self.uri(key), "rewrite refused: another writer changed it")
            raise error from None
        if not self.versioned():
            source.unlink(missing_ok=True)
            return
        mine = written.get("VersionId")
        versions = self.versions(key)
        ids = [v["VersionId"] for v in versions if not v["DeleteMarker"]]
        if (
            mine not in ids
            or ids.index(mine) + 1 >= len(ids)
            or ids[ids.index(mine) + 1] != planned
        ):
            # Another writer came between the check and our write: withdraw ours, keep theirs.
            self._delete_versions(key, [v for v in versions if v["VersionId"] == mine])
            raise StorageError(self.uri(key), "rewrite rolled back: another writer wrote a version")
        self._delete_versions(key, [v for v in versions if v["VersionId"] != mine])
        left = [v["VersionId"] for v in self.versions(key)]
        if left != [mine]:
            raise StorageError(self.uri(key), f"rewrite left {len(left) - 1} older version(s)")
        source.unlink(missing_ok=True)

    # -- for polars and pyarrow readers and for `piiscan doctor` ---------------------------

    def describe(self) -> str:
        """Where this lake is and how boto3 reaches it (never a secret), for `piiscan doctor`."""
        credentials = boto3.Session().get_credentials()
        found = f"credentials from {credentials.method}" if credentials else "no credentials"
        endpoint = self.client.meta.endpoint_url
        region = self.client.meta.region_name or "no region"
        return f"bucket {self.bucket}, endpoint {endpoint}, {region}, {found}"

    def has_credentials(self) -> bool:
        """Whether boto3's credential chain finds any credentials."""
        return boto3.Session().get_credentials() is not None

    def storage_options(self) -> dict[str, str]:
        """polars' `storage_options` for this lake, from boto3's own resolved settings."""
        options: dict[str, str] = {"aws_region": self.client.meta.region_name or "us-east-1"}
        endpoint = self.client.meta.endpoint_url
        if endpoint and os.environ.get("AWS_ENDPOINT_URL"):
            options["aws_endpoint_url"] = endpoint
            if endpoint.startswith("http://"):
                options["aws_allow_http"] = "true"
        credentials = boto3.Session().get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            options["aws_access_key_id"] = str(frozen.access_key)
            options["aws_secret_access_key"] = str(frozen.secret_key)
            if frozen.token:
                options["aws_session_token"] = frozen.token
        return options
