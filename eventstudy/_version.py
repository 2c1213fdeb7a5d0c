"""The package version, in one place: the facade, the command line and saved results read it."""

__version__ = "0.1.0"
