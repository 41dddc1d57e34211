"""What the flows share: keys from Prefect Secret blocks, safe failure reasons, retries of
transient failures only, and the per-customer concurrency limit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prefect import get_client
from prefect.blocks.system import Secret
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import State
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from piiscan.errors import PiiscanError
from piiscan.lake.keyring import KeyCopies, KeySource, key_source, load_key, secret_block_name
from piiscan.pseudonymize import Key, parse_keyring

# Secret blocks read once per customer inside `secrets_cached()` (None: the block is absent).
_SECRETS: ContextVar[dict[str, Secret[str] | None] | None] = ContextVar(
    "piiscan_secrets", default=None
)


@contextmanager
def secrets_cached() -> Iterator[None]:
    """Inside the block, each customer's Secret block is read from the server once, not once
    per step (a quiet customer's night runs its steps in one task: four reads became one).
    Nothing outlives the block, so a key pushed meanwhile is seen by the next run."""
    token = _SECRETS.set({})
    try:
        yield
    finally:
        _SECRETS.reset(token)


def _secret(customer_id: str) -> Secret[str] | None:
    """The customer's Secret block, None when there is none (cached inside secrets_cached)."""
    cache, name = _SECRETS.get(), secret_block_name(customer_id)
    if cache is not None and name in cache:
        return cache[name]
    try:
        secret: Secret[str] | None = Secret.load(name)  # type: ignore[assignment]
    except ValueError:  # no such block
        secret = None
    if cache is not None:
        cache[name] = secret
    return secret


def customer_key(customer_id: str) -> Key:
    """The customer's key: its Secret block, else PIISCAN_KEY_<CUSTOMER> or keys/<customer>.json."""
    secret = _secret(customer_id)
    if secret is None:  # no such block: local key material
        return load_key(customer_id)
    value = secret.get()
    # Prefect parses a Secret's JSON text into a dict when it is saved (`keys push` stores the
    # key file's JSON): take it back to text rather than str() it (a Python repr, no JSON).
    text = value if isinstance(value, str) else json.dumps(value)
    return parse_keyring(customer_id, text)


def customer_key_or_none(customer_id: str) -> Key | None:
    """The customer's key, or None where none is kept (a terminated customer's was retired)."""
    try:
        return customer_key(customer_id)
    except PiiscanError:
        return None  # only holds on numbers and held rows to tokenise need it; they say so


@dataclass(frozen=True)
class SecretBlockKey:
    """A key kept in a Prefect Secret block."""

    name: str

    def describe(self) -> str:
        """The block."""
        return f"Prefect Secret block {self.name}"

    def retire(self) -> str:
        """Delete the block."""
        Secret.delete(self.name)
        cache = _SECRETS.get()
        if cache is not None:  # read again if asked: gone now
            cache.pop(self.name, None)
        return f"deleted ({self.describe()})"


def customer_key_copies(customer_id: str) -> KeyCopies:
    """Every place that holds the customer's key: its Secret block, variable and key file."""
    copies: list[KeySource] = []
    if _secret(customer_id) is not None:
        copies.append(SecretBlockKey(secret_block_name(customer_id)))
    return KeyCopies((*copies, *key_source(customer_id).sources))


def failure_reason(error: object) -> str:
    """Why a step failed, safe to store: piiscan errors carry no raw values, others may."""
    if isinstance(error, PiiscanError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def is_transient(error: BaseException | None) -> bool:
    """Whether a failure may pass on a retry: a piiscan error marked transient (the lake or S3
    briefly unavailable, the customer's lock held), or a connection or timeout error."""
    if error is None:
        return False
    if isinstance(error, PiiscanError):
        return bool(error.transient)
    return isinstance(error, (ConnectionError, TimeoutError))


def retry_if_transient(task: Any, task_run: Any, state: State[Any]) -> bool:
    """A task's retry condition: retry transient failures only; a permanent one (bad data, a
    bad config, a missing key) fails at once, since another attempt would fail the same way."""
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:  # the failure the state carries
        return is_transient(exc)
    return False


def customer_limit(customer_id: str) -> str:
    """The Prefect global concurrency limit that keeps one customer's runs from overlapping."""
    return f"piiscan-customer-{customer_id}"


def ensure_customer_limits(customer_ids: Iterable[str]) -> None:
    """Create each customer's concurrency limit (limit 1) where it does not exist yet."""
    with get_client(sync_client=True) as client:
        for customer_id in customer_ids:
            name = customer_limit(customer_id)
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                with suppress(ObjectAlreadyExists):  # another run created it first
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(name=name, limit=1)
                    )


@contextmanager
def customer_slot(customer_id: str, ensure: bool = True) -> Iterator[None]:
    """Hold the customer's concurrency slot for the block: another run of the same customer,
    on any worker and host, waits until this one ends (the lake lock stays the last line). The
    slot is a lease: a run that dies without releasing it frees it when the lease runs out.
    ensure=False: the caller has made sure the limit exists (ensure_customer_limits)."""
    if ensure:
        ensure_customer_limits([customer_id])
    with concurrency(customer_limit(customer_id), occupy=1, strict=True):
        yield


class CustomerFailed(RuntimeError):
    """A customer's run failed; the message is the PII-free reason (failure_reason), so Prefect's
    state message and database never hold a raw value from the original exception."""

    def __init__(self, customer_id: str, reason: str, transient: bool = False) -> None:
        super().__init__(f"customer {customer_id} failed: {reason}")
        self.customer_id = customer_id
        self.reason = reason
        self.transient = transient
