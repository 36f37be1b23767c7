"""hubci: from a Jina Executor folder to a finished build on an Executor Hub."""

__version__ = "0.1.0"
