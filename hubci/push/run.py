"""The push pipeline: validate → bundle → upload → follow, each stage with a typed result.

``run_push(plan, reporter)`` returns a :class:`~hubci.push.result.PushResult` for every build
outcome (succeeded / failed / timeout / submitted / dry-run) and raises a HubciError for
everything that stops the push before a build exists (usage, validation, Hub or network).
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubci.errors import AuthError, HubciError, HubError, Interrupted, UsageError
from hubci.hub.client import HubClient, Timeouts
from hubci.hub.errors import DeadlineReached
from hubci.hub.follow import Follower, FollowTimeout, Terminal
from hubci.hub.form import PushForm
from hubci.hub.records import Package, Task
from hubci.hub.retry import RetryPolicy
from hubci.output.sizes import human_size
from hubci.push.plan import HubTarget, PushPlan, require_token
from hubci.push.render import PushReporter
from hubci.push.result import (
    BundleInfo,
    ExecutorInfo,
    PushResult,
    built_platforms,
    failure_message,
)
from hubci.push.unchanged import Verdict, Wanted, decide
from hubci.rules import default_platform
from hubci.secret import Secret

if TYPE_CHECKING:
    from hubci.bundle import FileSet
    from hubci.findings import ExecutorReport

#: How long to look for our own task when the push stream broke before it said anything.
TASK_LOOKUP_SECONDS = 60.0


def plan_report(plan: PushPlan, *, fileset: FileSet | None = None) -> ExecutorReport:
    """``hubci validate``'s checks for a push plan (``fileset``: the bundle's file selection,
    when the caller has collected it already)."""
    from hubci.validate.gate import report_before_sending

    return report_before_sending(
        plan.folder,
        dockerfile=plan.dockerfile,
        build_env=plan.build_env,
        name=plan.name if plan.name_source == "--name" else None,
        fileset=fileset,
    )


def validate_plan(
    plan: PushPlan, reporter: PushReporter, *, fileset: FileSet | None = None
) -> None:
    """Offline checks (:func:`plan_report`); findings reported, errors stop the push."""
    from hubci.validate.gate import stop_on_errors

    stop_on_errors(plan_report(plan, fileset=fileset), plan.folder, reporter.line, action="sent")


@contextmanager
def hub_endpoint(
    hub: HubTarget, token: Secret | None, data_dir: Path | None, reporter: PushReporter
) -> Iterator[tuple[str, Secret | None]]:
    """(base URL, token) of the Hub; starts the embedded local Hub for ``--hub local``."""
    if hub.url is not None:
        yield hub.url, token
        return
    from hubci.server.embedded import embedded_hub

    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_hub(data_dir=data_dir) as handle:
        reporter.line(f"local Hub listening on {handle.url} (data in {handle.data_dir})")
        yield handle.url, token or Secret(handle.default_token)


def _own_task(
    client: HubClient, name: str, deadline: float | None, sleep: Callable[[float], None]
) -> Task:
    """Find this session's task (traceId == session id), polling while the Hub records it."""
    limit = time.monotonic() + TASK_LOOKUP_SECONDS
    if deadline is not None:
        limit = min(limit, deadline)
    delay = 0.2
    while True:
        task = client.find_task(name)
        if task is not None and task.id is not None:
            return task
        if time.monotonic() >= limit:
            if deadline is not None and time.monotonic() >= deadline:
                raise FollowTimeout
            msg = f"the Hub lists no build task for this push (session id {client.session_id})"
            raise HubError(msg, f"check `hubci status` for {name}, then push again if needed")
        sleep(delay)
        delay = min(delay * 2, 5.0)


def _task_quietly(client: HubClient, name: str) -> Task | None:
    """This session's task if the Hub lists it; None on any problem (used for reporting)."""
    try:
        task = client.find_task(name)
    except HubciError:
        return None
    return task if task is not None and task.id is not None else None


class Pusher:
    """One push against one Hub session."""

    def __init__(
        self,
        plan: PushPlan,
        client: HubClient,
        reporter: PushReporter,
        bundle: BundleInfo,
        bundle_path: Path | None,
        *,
        make_bundle: Callable[[], tuple[BundleInfo, Path]] | None = None,
        generated_dockerfile: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``bundle_path`` None: ``bundle`` is what this machine remembers of the folder
        (hubci.bundle.known), and ``make_bundle`` zips it once the push is to go ahead."""
        self.plan = plan
        self.client = client
        self.reporter = reporter
        self.bundle = bundle
        self.bundle_path = bundle_path
        self.make_bundle = make_bundle
        #: the bundle has no Dockerfile: the Hub generates one (for the client's versions)
        self.generated_dockerfile = generated_dockerfile
        #: the account pushing, once whoami has answered
        self.owner: str | None = None
        self.sleep = sleep
        self.start = time.monotonic()
        self.deadline = None if plan.timeout is None else self.start + plan.timeout
        client.deadline = self.deadline  # every call of this push ends by the deadline
        #: This push's task, once found; always one with an id.
        self.task: Task | None = None

    @property
    def task_id(self) -> str | None:
        return self.task.id if self.task is not None else None

    def lookup_task(self) -> str | None:
        if self.task is None:
            with self.client.grace():  # for the report: a few seconds past the deadline at most
                self.task = _task_quietly(self.client, self.plan.name)
        return self.task_id

    def ensure_bundle(self) -> Path:
        """The bundle's file, zipped now if only its remembered digest was known."""
        if self.bundle_path is None:
            assert self.make_bundle is not None  # a remembered bundle comes with its maker
            self.bundle, self.bundle_path = self.make_bundle()
        return self.bundle_path

    def form(self) -> PushForm:
        plan = self.plan
        return PushForm(
            name=plan.name,
            md5=self.bundle.md5,
            bundle_path=self.ensure_bundle(),
            bundle_size=self.bundle.size,
            public=plan.visibility == "public",
            private=plan.visibility == "private",
            verbose=plan.verbose,
            no_cache=plan.no_cache,
            tags=plan.tags,
            protected_tags=plan.protected_tags,
            dockerfile=plan.dockerfile,
            build_env=plan.build_env,
            platforms=plan.platforms,
            secret=plan.secret,
        )

    def result(self, terminal: Terminal, warnings: list[str]) -> PushResult:
        self.lookup_task()
        return PushResult(
            status=terminal.status,
            task_id=self.task_id,
            executor=ExecutorInfo.from_payload(
                terminal.executor, platforms=built_platforms(self.task) or self.plan.platforms
            ),
            bundle=self.bundle,
            duration_s=time.monotonic() - self.start,
            error=failure_message(terminal),
            stage=terminal.stage,
            warnings=warnings,
            session_id=self.client.session_id,
        )

    def timeout(self) -> PushResult:
        if not self.client.upload_may_have_built:  # whoami or the upload itself ran out
            error = (
                f"no result within --timeout {self.plan.timeout:g}s: the upload did not "
                "finish, so no build started; push again (with a longer --timeout)"
            )
            return PushResult(
                status="timeout",
                bundle=self.bundle,
                duration_s=time.monotonic() - self.start,
                error=error,
                session_id=self.client.session_id,
            )
        self.lookup_task()
        follow = f"hubci status --id {self.task_id}" if self.task_id else "hubci status PATH"
        error = (
            f"no result within --timeout {self.plan.timeout:g}s; the build may still "
            f"finish: follow it with `{follow}`"
        )
        if self.plan.hub.local:  # the embedded Hub stops with this command, and the build too
            error = (
                f"no result within --timeout {self.plan.timeout:g}s; the embedded local Hub "
                "stops with hubci push, so the build cannot finish: push again with a longer "
                "--timeout (or 0)"
            )
        return PushResult(
            status="timeout",
            task_id=self.task_id,
            bundle=self.bundle,
            duration_s=time.monotonic() - self.start,
            error=error,
            session_id=self.client.session_id,
        )

    def run(self) -> PushResult:
        """Upload and follow; the deadline reached in any phase is the timeout result."""
        try:
            return self._run()
        except DeadlineReached:  # FollowTimeout included
            return self.timeout()

    def wanted(self) -> Wanted:
        from hubci.hub.client import client_versions

        plan = self.plan
        python, jina = client_versions()
        tags = (*plan.tags, *plan.protected_tags) or ("latest",)  # the Hub's default tag
        platforms = plan.platforms or (default_platform(platform.machine()),)
        return Wanted(
            md5=self.bundle.md5,
            tags=tuple(dict.fromkeys(tags)),
            platforms=platforms,
            dockerfile=plan.dockerfile,
            build_env=tuple(plan.build_env),
            visibility=plan.visibility,
            owner=self.owner,
            executor_id=plan.force_update,
            generated_dockerfile=self.generated_dockerfile,
            python=python,
            jina=jina,
        )

    def check_unchanged(self, owner: str | None) -> Verdict:
        """Ask the Hub what each requested tag points at (hubci.push.unchanged). A Hub that
        cannot answer only costs the skip: the push goes ahead."""
        self.owner = owner
        plan, wanted = self.plan, self.wanted()
        if plan.skip_unchanged == "never":
            return decide(wanted, {}, "never")
        ref = plan.name if plan.force_update or not owner else f"{owner}/{plan.name}"
        found: dict[str, Package | None] = {}
        try:
            for tag in wanted.tags:
                found[tag] = self.client.get_package(ref, tag, plan.secret)
        except (DeadlineReached, AuthError):
            raise
        except HubciError as exc:
            return Verdict(
                False, f"pushing: could not ask the Hub what it has ({exc.format_message()})"
            )
        return decide(wanted, found, plan.skip_unchanged)

    def unchanged(self, verdict: Verdict) -> PushResult:
        existing = verdict.existing
        assert existing is not None  # a skip always names the build
        wanted = self.wanted()
        doc = existing.executor
        executor = ExecutorInfo(
            id=doc.id,
            name=doc.name,
            owner=doc.owner,
            visibility=doc.visibility,
            tags=wanted.tags,
            platforms=doc.platforms if doc.platforms is not None else wanted.platforms,
        )
        return PushResult(
            status="unchanged",
            executor=executor,
            bundle=self.bundle,
            duration_s=time.monotonic() - self.start,
            session_id=self.client.session_id,
            build_id=existing.build_id,
            reason=verdict.reason,
        )

    def _run(self) -> PushResult:
        plan, client, reporter = self.plan, self.client, self.reporter
        user = client.whoami()
        who = user.name if user.name is not None else "?"
        verdict = self.check_unchanged(user.name)
        reporter.line(verdict.reason)
        if verdict.skip:
            return self.unchanged(verdict)
        self.ensure_bundle()
        reporter.line(
            f"uploading {plan.name} to {client.base_url} as {who} (session id {client.session_id})"
        )
        on_attempt = getattr(reporter, "reset_progress", None)
        try:
            upload = client.upload(
                self.form(), progress=reporter.upload_progress, on_attempt=on_attempt
            )
        except KeyboardInterrupt:
            if not client.upload_may_have_built:
                msg = "interrupted during the upload, before the Hub accepted it: no build started"
                raise Interrupted(msg, "push again") from None
            msg = "interrupted right after the upload"
            raise Interrupted(
                msg,
                f"check with `hubci status {plan.folder}` whether a build started "
                f"(its task's traceId is the session id {client.session_id})",
            ) from None
        follower = Follower(
            client, plan.verbose, reporter.build_event, self.deadline, reporter.line, self.sleep
        )
        try:
            return self._follow(upload.stream, upload.task, follower)
        except KeyboardInterrupt:
            if plan.hub.local:  # the embedded Hub stops with this command, and the build too
                msg = "interrupted; the embedded local Hub stops with hubci push, and the build too"
                raise Interrupted(msg, "push again") from None
            self.lookup_task()
            follow = (
                f"hubci status --id {self.task_id}"
                if self.task_id
                else f"hubci status {plan.folder}"
            )
            msg = "interrupted; the build goes on at the Hub"
            raise Interrupted(msg, f"follow it with `{follow}`") from None

    def _follow(self, stream: Any, task: Task | None, follower: Follower) -> PushResult:
        plan, client, reporter = self.plan, self.client, self.reporter
        if stream is not None:
            if not plan.wait:
                stream.close()
                self.task = _own_task(client, plan.name, self.deadline, self.sleep)
                return PushResult(
                    status="submitted",
                    task_id=self.task_id,
                    bundle=self.bundle,
                    duration_s=time.monotonic() - self.start,
                    session_id=client.session_id,
                )
            terminal, why = follower.push_stream(stream)
            if terminal is not None:
                return self.result(terminal, follower.state.warnings)
            reporter.line(f"the push stream {why}; following the build through its task")
        else:
            reporter.line("the Hub never answered the upload but recorded its build; following it")
        if task is None or task.id is None:
            task = _own_task(client, plan.name, self.deadline, self.sleep)
        self.task = task
        task_id = task.id
        assert task_id is not None  # a task without an id was looked up again
        reporter.line(f"following task {task_id}")
        terminal = follower.task(task_id)
        return self.result(terminal, follower.state.warnings)


def run_push(
    plan: PushPlan,
    reporter: PushReporter,
    *,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    """Validate, bundle, upload and follow; see the module docstring for what it returns."""
    if not plan.dry_run:
        require_token(plan.hub, plan.token)
    try:
        from hubci.bundle import collect_files, write_bundle
        from hubci.bundle.known import KnownBundle, fingerprint, recall, remember

        walked = time.time_ns()
        fileset = collect_files(plan.folder)  # walked once: validated, then bundled
        validate_plan(plan, reporter, fileset=fileset)
        relpaths = {e.relpath for e in fileset.entries}
        if plan.dockerfile and plan.dockerfile not in relpaths:
            msg = f"the Dockerfile {plan.dockerfile} is excluded from the bundle by an ignore file"
            raise UsageError(msg, "remove it from .gitignore/.dockerignore, or pick another one")
        key = fingerprint(fileset, walked)
        with tempfile.TemporaryDirectory(prefix="hubci-push-") as tmp:

            def make_bundle() -> tuple[BundleInfo, Path]:
                started = time.monotonic()
                bundle = write_bundle(fileset, Path(tmp) / "bundle.zip")
                info = BundleInfo(md5=bundle.md5, size=bundle.size, files=bundle.files)
                remember(key, KnownBundle(info.md5, info.size, info.files))
                reporter.line(
                    f"bundle: {bundle.files} files, {human_size(bundle.size)}, md5 {bundle.md5} "
                    f"({time.monotonic() - started:.1f}s)"
                )
                return info, bundle.path

            known = None if plan.dry_run or plan.skip_unchanged == "never" else recall(key)
            path: Path | None = None
            if known is None:
                info, path = make_bundle()
            else:
                info = BundleInfo(md5=known.md5, size=known.size, files=known.files)
                reporter.line(
                    f"bundle: {known.files} files, {human_size(known.size)}, md5 {known.md5} "
                    "(unchanged since this machine zipped them; zipped again only if the push "
                    "goes ahead)"
                )
            if plan.dry_run:
                files = [(e.relpath, e.size) for e in fileset.entries]
                return PushResult(status="dry-run", bundle=info, files=files)
            with hub_endpoint(plan.hub, plan.token, plan.local_data_dir, reporter) as (url, token):
                client = HubClient(
                    url,
                    token,
                    timeouts=timeouts or Timeouts(),
                    retry=retry or RetryPolicy(),
                    log=reporter.line,
                    ci=plan.ci_vendor,
                )
                with client:
                    # the Pusher starts the --timeout clock and hands its deadline to the client
                    pusher = Pusher(
                        plan,
                        client,
                        reporter,
                        info,
                        path,
                        make_bundle=make_bundle,
                        generated_dockerfile=plan.dockerfile is None
                        and "Dockerfile" not in relpaths,
                        sleep=sleep,
                    )
                    return pusher.run()
    except KeyboardInterrupt:
        # The Pusher handles Ctrl-C from the upload on; before it, nothing was pushed.
        msg = "interrupted before the upload; nothing was pushed"
        raise Interrupted(msg, "run the push again") from None
