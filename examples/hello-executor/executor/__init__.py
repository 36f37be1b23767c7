from .hello import HelloExecutor

__all__ = ["HelloExecutor"]
