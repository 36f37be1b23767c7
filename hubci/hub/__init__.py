"""The Executor Hub HTTP client: requests, retries, NDJSON streams, following a build."""
