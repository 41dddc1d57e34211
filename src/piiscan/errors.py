"""Errors raised by piiscan.

Every error carries its context as attributes and never a raw personal value.

    PiiscanError
    ├── ConfigError          a configs/*.yaml file is invalid (file, key)
    ├── StorageError         the lake could not be read or written (uri); .transient for retries
    │   ├── NotFoundError    the object does not exist
    │   └── LinkRefusedError the key is a symbolic link (or under one): never followed
    ├── IngestError          a carrier file cannot be ingested (file, code); goes to quarantine
    │   ├── LayoutError      no known layout matches the file
    │   ├── EncodingError    the bytes are not in the layout's encoding
    │   └── SchemaError      required column missing, duplicated header, ...
    ├── UnknownCustomerError a customer that is not configured
    ├── KeyMaterialError     a pseudonymization key is missing, malformed or too short
    ├── PolicyError          a PII column has no action, or an action does not fit it
    └── PurgeError           a purge cannot run: stale plan, failed check
        └── LockedError      another run holds the customer's lock; .transient
"""

from __future__ import annotations


class PiiscanError(Exception):
    """Base of every piiscan error."""

    transient: bool = False


class ConfigError(PiiscanError):
    """A configuration file is invalid; names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")


class StorageError(PiiscanError):
    """The lake could not be read or written."""

    def __init__(self, uri: str, problem: str, *, transient: bool = False) -> None:
        self.uri = uri
        self.problem = problem
        self.transient = transient
        super().__init__(f"{uri}: {problem}")


class NotFoundError(StorageError):
    """The requested object does not exist."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri, "not found")


class LinkRefusedError(StorageError):
    """The key names a symbolic link, or lies under one: a lake never follows links (one in a
    customer's landing folder could point at another customer's file)."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri, "a symbolic link (or under one): refused, links are never followed")


# Quarantine codes of files recognised as reports without line-level rows (not damaged): kept
# in quarantine for the record, skipped when sent again, never a review item.
RECOGNISED_REPORTS = frozenset(
    {"reference_file", "report_without_line_data", "report_not_supported"}
)


class IngestError(PiiscanError):
    """A carrier file cannot be ingested; the file goes to quarantine with this reason."""

    code = "unreadable"

    def __init__(self, file: str, problem: str, code: str | None = None) -> None:
        self.file = file
        self.problem = problem
        if code is not None:
            self.code = code
        super().__init__(f"{file}: {problem}")

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


class LayoutError(IngestError):
    """No known carrier layout matches the file."""

    code = "unknown_layout"


class EncodingError(IngestError):
    """The file's bytes are not in the encoding its layout uses."""

    code = "wrong_encoding"


class SchemaError(IngestError):
    """The header does not fit the layout: a required column is missing or repeated."""

    code = "bad_header"


class UnknownCustomerError(PiiscanError):
    """The customer is not in configs/customers.yaml."""

    def __init__(self, customer: str, known: list[str]) -> None:
        self.customer = customer
        super().__init__(f"unknown customer {customer!r}; configured: {', '.join(known) or 'none'}")


class KeyMaterialError(PiiscanError):
    """A customer's pseudonymization key is missing, malformed or too short."""

    def __init__(self, customer: str, problem: str) -> None:
        self.customer = customer
        super().__init__(f"key for customer {customer!r}: {problem}")


class PolicyError(PiiscanError):
    """A column tagged as PII has no usable action (fail closed: nothing is written)."""

    def __init__(self, dataset: str, column: str, problem: str) -> None:
        self.dataset = dataset
        self.column = column
        super().__init__(f"{dataset}.{column}: {problem}")


class PurgeError(PiiscanError):
    """A purge cannot run: its plan is stale, or a check of new content failed."""


class LockedError(PurgeError):
    """Another run holds the customer's lock (it may be free on a retry)."""

    transient = True

    def __init__(self, customer: str, problem: str) -> None:
        self.customer = customer
        super().__init__(f"customer {customer!r} {problem}")
