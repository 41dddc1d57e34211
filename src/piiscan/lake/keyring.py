"""Reading keys at the edge: an environment variable or a key file per customer.

PIISCAN_KEY_<CUSTOMER> (upper case, '-' as '_') holds a key file's JSON; otherwise the file
<keys dir>/<customer>.json, the folder from PIISCAN_KEYS_DIR (default ./keys). Keys never go into
the lake, a log or a report. Flows read the same JSON from a Prefect Secret block.

The ledger key, which signs the customer's ledger, is another secret with its own variable
(PIISCAN_LEDGER_KEY_<CUSTOMER>) and file (<keys dir>/<customer>.ledger.json). It is never
retired: the ledger must stay verifiable after the customer is gone.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from piiscan.errors import KeyMaterialError
from piiscan.pseudonymize import Key, new_keyring, parse_keyring

DEFAULT_KEYS_DIR = Path("keys")
LEDGER_KEY_BYTES = 32


def env_name(customer: str) -> str:
    """The environment variable that may hold a customer's key file."""
    return "PIISCAN_KEY_" + customer.upper().replace("-", "_")


def secret_block_name(customer: str) -> str:
    """The Prefect Secret block that may hold a customer's key file JSON (flows read it first;
    `piiscan keys push` writes it)."""
    return f"piiscan-key-{customer}"


def key_file_text(customer: str, folder: Path | None = None) -> str:
    """The customer's key file JSON, checked (KeyMaterialError when missing or invalid)."""
    text = os.environ.get(env_name(customer))
    if text is None:
        path = (folder or keys_dir()) / f"{customer}.json"
        if not path.is_file():
            raise KeyMaterialError(
                customer,
                f"missing: set {env_name(customer)} or create {path} "
                f"(piiscan keys create --customer {customer})",
            )
        text = path.read_text("utf-8")
    parse_keyring(customer, text)
    return text


def keys_dir() -> Path:
    """Where key files live."""
    return Path(os.environ.get("PIISCAN_KEYS_DIR", DEFAULT_KEYS_DIR))


class KeySource(Protocol):
    """Where a customer's key was read from, and how to retire it at account end."""

    def describe(self) -> str:
        """Where the key lives, for certificates and messages (never the key)."""
        ...

    def retire(self) -> str:
        """Destroy the key here; returns what was done, for the certificate."""
        ...


@dataclass(frozen=True)
class KeyFile:
    """A key file on disk."""

    path: Path

    def describe(self) -> str:
        """The file."""
        return f"file {self.path}"

    def retire(self) -> str:
        """Delete the file."""
        self.path.unlink(missing_ok=True)
        return f"deleted ({self.describe()})"


@dataclass(frozen=True)
class KeyVariable:
    """A key in an environment variable (set by whoever runs piiscan; it cannot unset it)."""

    name: str

    def describe(self) -> str:
        """The variable."""
        return f"environment variable {self.name}"

    def retire(self) -> str:
        """Nothing piiscan can do but say so."""
        return f"to be removed by the operator ({self.describe()})"


@dataclass(frozen=True)
class KeyCopies:
    """Every place a customer's key is kept: retiring destroys each of them."""

    sources: tuple[KeySource, ...]

    def describe(self) -> str:
        """Each place, or that none holds a key."""
        return "; ".join(s.describe() for s in self.sources) or "no key was found"

    def retire(self) -> str:
        """Retire every copy."""
        return "; ".join(s.retire() for s in self.sources) or "none held (no key was found)"


def key_source(customer: str, folder: Path | None = None) -> KeyCopies:
    """The places that hold the customer's key here: its environment variable and key file."""
    found: list[KeySource] = []
    if env_name(customer) in os.environ:
        found.append(KeyVariable(env_name(customer)))
    path = (folder or keys_dir()) / f"{customer}.json"
    if path.is_file():
        found.append(KeyFile(path))
    return KeyCopies(tuple(found))


def load_key(customer: str, folder: Path | None = None) -> Key:
    """The customer's current key, or KeyMaterialError saying where it was looked for."""
    return parse_keyring(customer, key_file_text(customer, folder))


def create_key(customer: str, folder: Path | None = None, rotate: bool = False) -> Path:
    """Write a key file with a fresh key (rotate: add a new version as current)."""
    path = (folder or keys_dir()) / f"{customer}.json"
    if path.exists() and not rotate:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = path.read_text("utf-8") if path.exists() else None
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new_keyring(previous), "utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


# --- the ledger key ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerKey:
    """The secret that signs a customer's ledger; repr never shows it."""

    customer: str
    secret: bytes = field(repr=False)


def ledger_env_name(customer: str) -> str:
    """The environment variable that may hold a customer's ledger key file."""
    return "PIISCAN_LEDGER_KEY_" + customer.upper().replace("-", "_")


def ledger_key_path(customer: str, folder: Path | None = None) -> Path:
    """The ledger key file of a customer."""
    return (folder or keys_dir()) / f"{customer}.ledger.json"


def parse_ledger_key(customer: str, text: str) -> LedgerKey:
    """A ledger key from its file's JSON: {"customer": id, "ledger_key": hex}."""
    try:
        data = json.loads(text)
        secret = bytes.fromhex(data["ledger_key"])
        owner = data["customer"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyMaterialError(
            customer,
            f"ledger key file must be JSON {{customer, ledger_key: hex}} ({type(exc).__name__})",
        ) from None
    if owner != customer:
        raise KeyMaterialError(customer, f"the ledger key given is customer {owner!r}'s")
    if len(secret) < LEDGER_KEY_BYTES:
        raise KeyMaterialError(
            customer, f"ledger key too short: {len(secret)} bytes, at least {LEDGER_KEY_BYTES}"
        )
    return LedgerKey(customer, secret)


def load_ledger_key(customer: str, folder: Path | None = None, create: bool = False) -> LedgerKey:
    """The customer's ledger key (create: make its file when neither variable nor file holds
    one), or KeyMaterialError saying where it was looked for."""
    text = os.environ.get(ledger_env_name(customer))
    if text is None:
        path = ledger_key_path(customer, folder)
        if not path.is_file():
            if not create:
                raise KeyMaterialError(
                    customer,
                    f"ledger key missing: set {ledger_env_name(customer)} or create {path} "
                    "(it was made by the first ledger entry written with a key)",
                )
            create_ledger_key(customer, folder)
        text = path.read_text("utf-8")
    return parse_ledger_key(customer, text)


def create_ledger_key(customer: str, folder: Path | None = None) -> Path:
    """Write a ledger key file with a fresh key, unless one exists (it is never replaced)."""
    path = ledger_key_path(customer, folder)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"customer": customer, "ledger_key": secrets.token_hex(LEDGER_KEY_BYTES)}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n", "utf-8")
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # never over another process's new key: the first one made wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path
