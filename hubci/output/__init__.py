"""The output layer: every byte hubci writes passes through here.

- :mod:`hubci.output.redact`: the one redactor, built from the run's secrets (every
  :class:`hubci.secret.Secret` registers itself), one rule for short values;
- :mod:`hubci.output.neutralize`: the one neutraliser, which makes untrusted text inert for a
  CI runner (GitHub Actions' line rules: ``\\n``, ``\\r\\n`` and a bare ``\\r`` end a line,
  ``::`` at a line start and ``##[`` anywhere start a command) and for a terminal (control
  characters);
- :mod:`hubci.output.markdown`: the one markdown escaper (step summary, pull request comment);
- :mod:`hubci.output.commands`: the only place that builds workflow commands and writes the
  runner's files (``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``);
- :mod:`hubci.output.console`: the only writer of stdout and stderr. Its text methods redact and
  neutralise whatever they are given, so untrusted text cannot be printed another way; a
  workflow command is written only as a :class:`~hubci.output.commands.WorkflowCommand`.
- :mod:`hubci.output.urls`: URLs without their credentials, before they are recorded or shown.

A project test forbids ``print``, ``click.echo`` and ``sys.stdout``/``sys.stderr`` writes in
hubci outside this package.
"""
