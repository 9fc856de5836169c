"""srcad's version (also in pyproject.toml; tests/test_conventions.py keeps them equal)."""

__version__ = "0.3.0"
