# The hubci container action: a slim Python with only what hubci needs, built the same way every
# time. The base is pinned by digest (the multi-platform index of python:3.12-slim-bookworm),
# Debian's packages come from a dated snapshot, Python packages from a lock with hashes
# (requirements/action.txt; docs/release.md has the one command that regenerates it), and hubci
# itself is built with the locked setuptools: nothing unpinned is fetched.
# A released action.yml does not build this file: it pulls the image the release workflow
# published (.github/workflows/release.yml), by digest.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:a116514e19457bcb7af7efe9c3dd0b9b71e85b317694e7882a1c52aa15a78134
ARG DEBIAN_MIRROR=http://snapshot.debian.org/archive/debian/20250520T000000Z

# git without what Debian's package pulls in with it (perl alone is ~47 MB): hubci runs only
# git's built-in read commands (rev-parse, ls-files, diff, cat-file, show ...), all in the one
# binary, which needs no library the base lacks (libpcre2 and zlib are there).
FROM ${PYTHON_IMAGE} AS git
ARG DEBIAN_MIRROR
# hadolint ignore=DL3008
RUN printf 'deb %s bookworm main\n' "${DEBIAN_MIRROR}" > /etc/apt/sources.list \
    && rm -f /etc/apt/sources.list.d/* \
    && apt-get -o Acquire::Check-Valid-Until=false update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

COPY --from=git /usr/bin/git /usr/bin/git
# The runner mounts the workspace owned by its own user, not root: without this, git refuses it
# ("detected dubious ownership") and hubci could not read refs or commit dates.
RUN git config --system --add safe.directory '*'

# A build may send pip to a mirror or to a folder of wheels instead of PyPI (the test suite
# builds this image with no registry in reach): the lock's hashes are checked whatever the source.
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX

# Locked dependencies first (a layer that changes only with the lock, shared between releases),
# then hubci itself, built offline with the locked setuptools.
COPY requirements/action.txt /opt/hubci/requirements/action.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /opt/hubci/requirements/action.txt
COPY pyproject.toml README.md LICENSE /opt/hubci/
COPY hubci /opt/hubci/hubci
RUN pip install --no-cache-dir --no-deps --no-build-isolation --no-index /opt/hubci

ENTRYPOINT ["hubci", "action"]
