"""The package version (one place; the wheel metadata and `kzclassify --version` read it)."""
__version__ = "0.1.0"
