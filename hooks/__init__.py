"""testwarden: pre-commit hooks that keep Python code formatted and tests honest."""

__version__ = "0.1.0"
