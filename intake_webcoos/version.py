"""The package's version (read by setup.cfg and sent in the User-Agent)."""

__version__ = "0.1.0.dev0"
