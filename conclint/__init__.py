"""conclint: find concurrency bugs in Python code without running it."""

__version__ = "0.1.0"
