# The hubci container action: a slim Python with only what hubci needs.
FROM python:3.12-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# git: tags and change detection read the checked-out repository.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# Locked runtime dependencies first (a layer that changes only with the lock), then hubci itself.
COPY requirements/action.txt /opt/hubci/requirements/action.txt
RUN pip install --no-cache-dir -r /opt/hubci/requirements/action.txt
COPY pyproject.toml README.md LICENSE /opt/hubci/
COPY hubci /opt/hubci/hubci
RUN pip install --no-cache-dir --no-deps /opt/hubci

ENTRYPOINT ["hubci", "action"]
