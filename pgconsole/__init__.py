"""pgconsole: a keyboard-driven terminal admin console for PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pgconsole")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
