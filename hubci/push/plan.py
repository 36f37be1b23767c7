"""The push plan: flags, environment and defaults resolved once into a frozen record.

Everything downstream takes a :class:`PushPlan`; nothing after :func:`resolve_plan` reads
``os.environ`` or raw flags. Secrets (token, executor secret, build-env values) are
:class:`~hubci.secret.Secret` from here on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hubci import rules
from hubci.buildenv import parse_build_env
from hubci.errors import ConfigError, UsageError
from hubci.secret import Secret

if TYPE_CHECKING:
    from hubci.tags import TagOptions

Output = rules.ResultFormat
Visibility = rules.Visibility

#: Default --timeout: the whole upload and build, in seconds (0 = no limit).
DEFAULT_TIMEOUT = rules.DEFAULT_TIMEOUT_SECONDS
LOCAL_HUB = "local"


@dataclass(frozen=True)
class PushOptions:
    """The raw options of ``hubci push`` (and of the Action's push step)."""

    path: Path
    tags: tuple[str, ...] = ()
    protected_tags: tuple[str, ...] = ()
    platform: str | None = None
    build_env: tuple[str, ...] = ()
    dockerfile: str | None = None
    visibility: Visibility | None = None
    force_update: str | None = None
    secret: str | None = None
    no_cache: bool = False
    #: ``--skip-unchanged``: auto (skip when the Hub has this build and no build env is given)
    #: or always; ``--force-build`` (and ``--no-cache``) never skip
    skip_unchanged: rules.SkipUnchanged = "auto"
    force_build: bool = False
    verbose: bool = False
    name: str | None = None
    hub: str | None = None
    hub_url: str | None = None
    token: str | None = None
    dry_run: bool = False
    wait: bool = True
    timeout: float = DEFAULT_TIMEOUT
    output: Output = "text"
    #: ``--tags/--flavor/--protected-tags/--ref/--sha/--default-branch`` (hubci.tags.TagOptions)
    tag_rules: TagOptions | None = None


@dataclass(frozen=True)
class HubTarget:
    url: str | None  # None: the embedded local Hub, started at push time
    source: str  # "--hub-url", "--hub", "JINA_HUBBLE_REGISTRY", "default", "--hub local"

    @property
    def local(self) -> bool:
        return self.url is None

    def describe(self) -> str:
        return "local Hub (embedded)" if self.url is None else self.url


@dataclass(frozen=True)
class PushPlan:
    folder: Path
    name: str  # the executor name sent as ``id`` (or the --force-update NAME_OR_ID)
    name_source: str
    hub: HubTarget
    token: Secret | None
    token_source: str
    tags: tuple[str, ...]
    protected_tags: tuple[str, ...]
    platforms: tuple[str, ...]
    build_env: Mapping[str, Secret]
    dockerfile: str | None  # relative POSIX path inside the folder
    visibility: Visibility | None
    force_update: str | None
    secret: Secret | None  # only with force_update
    no_cache: bool
    verbose: bool
    dry_run: bool
    #: when to skip an upload whose build the Hub already has (hubci.push.unchanged)
    skip_unchanged: rules.SkipUnchanged
    wait: bool
    timeout: float | None  # None: no limit
    output: Output
    ci_vendor: str = "(unset)"
    #: (tag, where it came from: "-t/--tag", "--protected-tag" or the tag rule)
    tag_origins: tuple[tuple[str, str], ...] = ()
    tag_warnings: tuple[str, ...] = ()
    local_data_dir: Path | None = None

    def secrets(self) -> list[str]:
        """Every secret value of this plan, for output redaction."""
        values = [s.reveal() for s in self.build_env.values()]
        values += [s.reveal() for s in (self.token, self.secret) if s is not None]
        return [v for v in values if v]


def _skip_unchanged(options: PushOptions) -> rules.SkipUnchanged:
    """--force-build and --no-cache (a fresh build is asked for) never skip."""
    if options.force_build and options.skip_unchanged == "always":
        msg = "--force-build and --skip-unchanged=always contradict each other"
        raise UsageError(msg, "give only one of them")
    if options.force_build or options.no_cache:
        return "never"
    return options.skip_unchanged


def resolve_hub(hub: str | None, hub_url: str | None, env: Mapping[str, str]) -> HubTarget:
    """--hub local|URL, else --hub-url, else $JINA_HUBBLE_REGISTRY, else the public Hub."""
    if hub and hub_url:
        msg = "--hub and --hub-url both name a Hub"
        raise UsageError(msg, "give only one of them")
    if hub is not None:
        if hub == LOCAL_HUB:
            return HubTarget(None, "--hub local")
        return HubTarget(_check_url(hub, "--hub"), "--hub")
    if hub_url:
        return HubTarget(_check_url(hub_url, "--hub-url"), "--hub-url")
    registry = env.get("JINA_HUBBLE_REGISTRY", "").strip()
    if registry:
        return HubTarget(_check_url(registry, "JINA_HUBBLE_REGISTRY"), "JINA_HUBBLE_REGISTRY")
    return HubTarget(rules.DEFAULT_HUB_URL, "default")


def _check_url(url: str, where: str) -> str:
    from urllib.parse import urlsplit

    from hubci.output.urls import scrub_url, userinfo

    shown = scrub_url(url.strip())  # credentials registered as secrets before any message
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"{where} {shown!r} is not an http(s) URL"
        raise UsageError(msg, "use e.g. https://api.hubble.jina.ai, or --hub local")
    if parts.username or parts.password or userinfo(url):
        msg = f"{where} must not carry credentials in the URL"
        raise UsageError(msg, "pass the token with --token or JINA_AUTH_TOKEN")
    return url.strip().rstrip("/")


def require_token(hub: HubTarget, token: Secret | None) -> None:
    """A remote Hub needs a token: its absence is the user's to fix (exit 2), found before any
    work, not a Hub error after it. The local Hub brings its own."""
    if token is None and not hub.local:
        msg = f"no Hub token for {hub.url}"
        raise UsageError(msg, "set JINA_AUTH_TOKEN, pass --token, or log in with `jina auth login`")


def resolve_token(
    token: str | None, env: Mapping[str, str], hub: HubTarget
) -> tuple[Secret | None, str]:
    """(token, where it came from): --token, else $JINA_AUTH_TOKEN, else the official client's
    config.json; the local Hub's own token when pushing to ``--hub local``."""
    if token:
        return Secret(token), "--token"
    if hub.local:
        return None, "local Hub"
    if env.get("JINA_AUTH_TOKEN", "").strip():
        return Secret(env["JINA_AUTH_TOKEN"].strip()), "JINA_AUTH_TOKEN"
    root = env.get("JINA_HUB_ROOT") or str(Path(env.get("HOME") or Path.home()) / ".jina")
    config = Path(root) / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "none"
    except (OSError, ValueError):
        # never echo the file's content: it holds the token
        msg = f"cannot read the Hub token from {config}"
        raise ConfigError(msg, "fix or delete the file, or set JINA_AUTH_TOKEN") from None
    token = data.get("auth_token") if isinstance(data, dict) else None
    if isinstance(token, str) and token.strip():
        return Secret(token.strip()), str(config)
    return None, "none"


def default_local_data_dir() -> Path:
    """Where ``--hub local`` keeps its state: the user data folder (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("hubci")) / "local-hub"


def ci_vendor(env: Mapping[str, str]) -> str:
    """The CI service we run in (the official client's ``jinameta-ci-vendor`` header)."""
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "BUILDKITE"):
        if env.get(name):
            return name
    return "(unset)"


def _dockerfile(folder: Path, value: str | None, cwd: Path) -> str | None:
    if value is None:
        return None
    candidates = [folder / value] if not Path(value).is_absolute() else []
    candidates.append((cwd / value) if not Path(value).is_absolute() else Path(value))
    for candidate in candidates:
        if candidate.is_file():
            try:
                rel = candidate.resolve().relative_to(folder.resolve())
            except ValueError:
                continue
            return rel.as_posix()
    if any(c.is_file() for c in candidates):
        msg = f"--dockerfile {value!r} is outside {folder}"
        raise UsageError(msg, "the Dockerfile must be inside the executor folder")
    msg = f"--dockerfile {value!r} does not exist"
    present = sorted(p.name for p in folder.glob("*Dockerfile*") if p.is_file())
    if present:
        hint = f"give a path relative to {folder}; it holds {', '.join(present)}"
    else:
        hint = f"give a path relative to {folder}, or drop --dockerfile: the Hub generates one"
    raise UsageError(msg, hint)


def _tags(values: tuple[str, ...], flag: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for tag in (t.strip() for t in value.split(",")):
            if not tag:
                continue
            if not rules.TAG.match(tag):
                msg = f"{flag} {tag!r} is not a valid Hub tag"
                raise UsageError(
                    msg, "use up to 64 letters, digits, _ . -, starting with a letter/digit/_"
                )
            if tag not in out:
                out.append(tag)
    return tuple(out)


def _resolve_tags(
    options: PushOptions, env: Mapping[str, str], folder: Path
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(tags, protected tags, origins, warnings) from -t/--protected-tag and the tag rules."""
    tags = _tags(options.tags, "--tag")
    protected = _tags(options.protected_tags, "--protected-tag")
    rules_given = options.tag_rules is not None and options.tag_rules.has_rules
    if not rules_given:
        explicit = [(t, "-t/--tag") for t in tags if t not in protected]
        explicit += [(t, "--protected-tag") for t in protected]
        return tuple(t for t in tags if t not in protected), protected, tuple(explicit), ()
    assert options.tag_rules is not None
    _context, computed = options.tag_rules.resolve(env=env, cwd=folder)
    computed = computed.with_explicit(tags, protected)
    if not computed.all_tags:
        msg = "the tag rules gave no tag for this ref, so nothing would be tagged"
        raise UsageError(msg, "check --tags/--ref, or add -t TAG; `hubci tags` shows the rules")
    origins = tuple((t, computed.sources.get(t, "?")) for t in computed.all_tags)
    return computed.tags, computed.protected_tags, origins, tuple(computed.warnings)


def _name(folder: Path, options: PushOptions) -> tuple[str, str]:
    if options.name is not None and not rules.EXECUTOR_NAME.match(options.name):
        msg = f"--name {options.name!r} is not a valid executor name"
        raise UsageError(msg, "use letters, digits, _ and -, starting with a letter or digit")
    if options.force_update:
        return options.force_update, "--force-update"
    from hubci.executor.config import resolve_name

    name, source = resolve_name(folder, options.name)
    if not name:
        msg = f"cannot tell the executor's name for {folder}"
        raise UsageError(msg, "set metas.name in config.yml, name in manifest.yml, or pass --name")
    return name, source


def resolve_plan(
    options: PushOptions,
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    data_dir: Path | None = None,
) -> PushPlan:
    """Resolve options + environment into a PushPlan, or raise a UsageError saying what to fix."""
    env = dict(os.environ) if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    folder = options.path if options.path.is_absolute() else cwd / options.path
    if not folder.is_dir():
        msg = f"{options.path} is not a directory"
        raise UsageError(msg, "give the path of an executor folder (the one with config.yml)")
    folder = folder.resolve()
    if options.timeout < 0:
        msg = f"--timeout {options.timeout:g} is negative"
        raise UsageError(msg, "give seconds, or 0 for no limit")
    secret_value = options.secret
    if options.secret and not options.force_update:
        msg = "--secret only applies to --force-update"
        raise UsageError(msg, "add --force-update NAME_OR_ID, or drop --secret")
    if options.force_update:
        secret_value = options.secret or env.get("HUBCI_SECRET") or None
        if not secret_value:
            msg = "--force-update needs the executor's secret"
            raise UsageError(msg, "pass --secret or set HUBCI_SECRET")
    try:
        platforms = tuple(rules.parse_platforms(options.platform or ""))
    except ValueError as exc:
        raise UsageError(f"--platform: {exc}") from None
    hub = resolve_hub(options.hub, options.hub_url, env)
    if hub.local and not options.wait and not options.dry_run:
        msg = (
            "--no-wait cannot be used with --hub local: the embedded Hub stops when hubci "
            "push exits, and the build with it"
        )
        raise UsageError(msg, "drop --no-wait, or run `hubci hub serve` and push to its URL")
    token, token_source = resolve_token(options.token, env, hub)
    name, name_source = _name(folder, options)
    local_dir = (data_dir or default_local_data_dir()) if hub.local else None
    tags, protected, origins, tag_warnings = _resolve_tags(options, env, folder)
    return PushPlan(
        skip_unchanged=_skip_unchanged(options),
        folder=folder,
        name=name,
        name_source=name_source,
        hub=hub,
        token=token,
        token_source=token_source,
        tags=tags,
        protected_tags=protected,
        platforms=platforms,
        build_env=parse_build_env(options.build_env, env),
        dockerfile=_dockerfile(folder, options.dockerfile, cwd),
        visibility=options.visibility,
        force_update=options.force_update,
        secret=Secret(secret_value) if options.force_update and secret_value else None,
        no_cache=options.no_cache,
        verbose=options.verbose,
        dry_run=options.dry_run,
        wait=options.wait,
        timeout=options.timeout or None,
        output=options.output,
        ci_vendor=ci_vendor(env),
        tag_origins=origins,
        tag_warnings=tag_warnings,
        local_data_dir=local_dir,
    )
