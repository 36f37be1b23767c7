"""The GitHub Action's adapter: ``INPUT_*`` and ``GITHUB_*`` in, the same plans the CLI builds,
outputs, annotations, a step summary and GitHub feedback out. It holds no push, validate or tag
logic of its own."""
