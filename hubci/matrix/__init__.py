"""Many executors in one repository: discovery, change detection and the job matrix.

``build_matrix`` (plan.py) is the entry point; ``render`` turns its result into JSON, stderr
lines and GitHub Actions outputs.
"""

from __future__ import annotations

from hubci.matrix.plan import MatrixEntry, MatrixRequest, MatrixResult, build_matrix

__all__ = ["MatrixEntry", "MatrixRequest", "MatrixResult", "build_matrix"]
