"""The package version, recorded in every trace (a module of its own, so that the engine's
modules can import it without importing the package's ``__init__``)."""

__version__ = "0.1.0"
