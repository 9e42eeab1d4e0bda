"""A local emulator of SailPoint Identity Security Cloud's task-status API, for tests, demos and benchmarks."""

__version__ = "0.1.0"
