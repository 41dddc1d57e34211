"""piiscan: find, pseudonymize and retire personal data in telecom expense data.

The layers, each importing only those below it (enforced in CI): model (types, registries,
policy, errors) <- stages (pure functions over frames and values) <- lake (storage backends,
lake keys, state I/O, the clock) <- pipeline (one function per use case) <- faces (CLI, flows).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("piiscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
