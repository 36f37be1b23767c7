"""Real image builds through the Docker Engine API: ``hubci build`` and the Hub's docker builder.

- :mod:`hubci.image.engine`: connecting to ``DOCKER_HOST`` / the default socket;
- :mod:`hubci.image.builder`: the one builder (a normalized folder -> one image per platform);
- :mod:`hubci.image.scrub`: keeping build-env values out of the image metadata;
- :mod:`hubci.image.prepare`: validate, select the bundle's files, normalize like the Hub;
- :mod:`hubci.image.render`: text and JSON output of ``hubci build``.
"""
