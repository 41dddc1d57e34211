"""What the flows share: keys from Prefect Secret blocks and safe failure reasons."""

from __future__ import annotations

from dataclasses import dataclass

from prefect.blocks.system import Secret

from piiscan.errors import PiiscanError
from piiscan.lake.keyring import KeyCopies, KeySource, key_source, load_key
from piiscan.pseudonymize import Key, parse_keyring


def secret_block_name(customer_id: str) -> str:
    """The Prefect Secret block that may hold a customer's key file JSON."""
    return f"piiscan-key-{customer_id}"


def customer_key(customer_id: str) -> Key:
    """The customer's key: its Secret block, else PIISCAN_KEY_<CUSTOMER> or keys/<customer>.json."""
    try:
        secret: Secret[str] = Secret.load(secret_block_name(customer_id))  # type: ignore[assignment]
    except ValueError:  # no such block: local key material
        return load_key(customer_id)
    return parse_keyring(customer_id, str(secret.get()))


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
        return f"deleted ({self.describe()})"


def customer_key_copies(customer_id: str) -> KeyCopies:
    """Every place that holds the customer's key: its Secret block, variable and key file."""
    copies: list[KeySource] = []
    try:
        Secret.load(secret_block_name(customer_id))
        copies.append(SecretBlockKey(secret_block_name(customer_id)))
    except ValueError:  # no such block
        pass
    return KeyCopies((*copies, *key_source(customer_id).sources))


def failure_reason(error: object) -> str:
    """Why a step failed, safe to store: piiscan errors carry no raw values, others may."""
    if isinstance(error, PiiscanError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
