"""piiscan: find, pseudonymize and retire personal data in telecom expense data.

The layers, each importing only those below it (enforced in CI): model (types, registries,
policy, errors) <- stages (pure functions over frames and values) <- lake (storage backends,
lake keys, state I/O, the clock) <- pipeline (one function per use case) <- faces (CLI, flows).
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata on first use: importlib.metadata costs
    tens of milliseconds that `piiscan --help` and most imports of piiscan do not need."""
    if name != "__version__":
        raise AttributeError(f"module 'piiscan' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("piiscan")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
