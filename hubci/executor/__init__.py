"""The executor model: what an executor folder is, before any check or push looks at it.

- :mod:`hubci.executor.config`: ``config.yml`` and ``manifest.yml`` read as the Hub's client
  reads them, and the executor's name (its precedence: ``--name``, ``metas.name``, the
  manifest's ``name``, the ``jtype``);
- :mod:`hubci.executor.classes`: Executor classes found in the code (AST only, never imported);
- :mod:`hubci.executor.discover` and :mod:`hubci.executor.walk`: the executor folders below a
  root (a monorepo), with git's file list or an ignore-aware walk;
- :mod:`hubci.executor.paths`: which folders the PATH arguments (globs too) stand for.
"""
