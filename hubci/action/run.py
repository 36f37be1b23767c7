"""``hubci action``: the Action's whole run, built from the same pieces as the CLI.

1. register and mask every secret (token, executor secret, GitHub token, build-env values)
   before anything else is printed; everything is written through :mod:`hubci.output`;
2. resolve the mode (``auto``: validate + dry-run on pull requests, push otherwise), the executor
   folders (``hubci.executor.paths``), the tags (``hubci.tags``) and one ``PushPlan`` per folder
   (``hubci.push.plan.resolve_plan``, exactly as ``hubci push`` does);
3. validate every folder (annotations on the right lines); errors stop the run before any upload;
4. push (or dry-run) them with ``hubci.push.multi.push_many``, each executor's log in a group;
   ``rehearse`` first starts an embedded local Hub in the job and pushes there;
5. write the outputs, the step summary, commit statuses and the sticky pull request comment.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hubci import __version__, rules
from hubci.action.inputs import ActionInputs, Mode, env_name, read_inputs, secret_values
from hubci.action.summary import ExecutorRow, RunSummary, render, rows_status
from hubci.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, HubciError, UsageError
from hubci.findings import ExecutorReport
from hubci.output import commands
from hubci.output.console import Console
from hubci.output.redact import register
from hubci.output.reporter import Reporter
from hubci.output.urls import scrub_url
from hubci.push.multi import push_many, worst_exit_code
from hubci.push.plan import PushOptions, PushPlan, resolve_plan
from hubci.push.result import ExecutorInfo

if TYPE_CHECKING:
    from hubci.github import GitHubReporter, State
    from hubci.tags import TagOptions

PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
#: Executors pushed at once when the path input names several (as `hubci push --jobs`).
JOBS = rules.DEFAULT_PARALLEL_PUSHES


def resolve_mode(mode: Mode, event: str) -> Mode:
    if mode != "auto":
        return mode
    return "validate" if event in PR_EVENTS else "push"


def _workspace(env: Mapping[str, str]) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()


def _relative(folder: Path, workspace: Path) -> str:
    try:
        return folder.relative_to(workspace).as_posix() or "."
    except ValueError:
        return folder.as_posix()


@contextmanager
def _hub(
    mode: Mode, inputs: ActionInputs, env: Mapping[str, str], console: Console
) -> Iterator[tuple[str | None, str | None, str | None, str]]:
    """(hub URL, token, builder, description) for the run; starts the rehearsal Hub."""
    if mode != "rehearse":
        hub_url = inputs.hub_url or env.get("JINA_HUBBLE_REGISTRY") or rules.DEFAULT_HUB_URL
        yield inputs.hub_url, inputs.token, None, scrub_url(hub_url)
        return
    from hubci.image.engine import engine_available
    from hubci.server.embedded import embedded_hub

    builder = "docker" if engine_available() else "check"
    base = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="hubci-rehearse-", dir=base) as data,
        embedded_hub(data_dir=Path(data), builder=builder) as hub,
    ):
        console.line(f"rehearsal: local Hub at {hub.url} with the {builder} builder")
        yield hub.url, hub.default_token, builder, "embedded local Hub (gone after the job)"


def _plans(
    folders: Sequence[Path],
    inputs: ActionInputs,
    mode: Mode,
    tag_rules: TagOptions,
    hub_url: str | None,
    token: str | None,
    env: Mapping[str, str],
    workspace: Path,
) -> list[PushPlan]:
    if mode == "push" and not (token or env.get("JINA_AUTH_TOKEN", "").strip()):
        msg = "the token input is empty, so there is nothing to push with"
        raise UsageError(
            msg, "pass token: ${{ secrets.JINA_AUTH_TOKEN }}, or use mode: validate or rehearse"
        )
    plans = []
    for folder in folders:
        options = PushOptions(
            path=folder,
            platform=inputs.platforms or None,
            build_env=inputs.build_env,
            dockerfile=inputs.dockerfile,
            visibility=inputs.visibility,
            force_update=inputs.force_update,
            secret=inputs.secret,
            no_cache=inputs.no_cache,
            skip_unchanged=inputs.skip_unchanged,
            verbose=inputs.verbose,
            name=inputs.name,
            hub_url=hub_url,
            token=token,
            dry_run=mode == "validate",
            wait=inputs.wait,
            timeout=inputs.timeout,
            tag_rules=tag_rules,
        )
        plans.append(resolve_plan(options, env, cwd=workspace))
    return plans


def _validate(plans: Sequence[PushPlan], workspace: Path, console: Console) -> list[ExecutorReport]:
    from hubci.push.run import plan_report
    from hubci.validate.report import render_github

    reports = []
    for plan in plans:
        report = plan_report(plan)
        report.path = _relative(plan.folder, workspace)
        reports.append(report)
    console.emit(render_github(reports, workspace=str(workspace)))
    return reports


#: The push options whose errors the Action reports under its own input names.
_OPTION_INPUTS = {
    "--platform": "platforms",
    **{
        f"--{name}": name
        for name in (
            "build-env",
            "dockerfile",
            "name",
            "tags",
            "flavor",
            "protected-tags",
            "visibility",
            "force-update",
            "secret",
            "timeout",
            "hub-url",
            "token",
        )
    },
}
_LEADING_OPTION = re.compile(r"^--[a-z-]+(?=[\s:]|$)")


def as_input_names(message: str) -> str:
    """An error from the shared push/tags code names a CLI option first (``--platform: …``);
    an Action user set an input: ``input platforms: …``."""
    match = _LEADING_OPTION.match(message)
    if match and match.group() in _OPTION_INPUTS:
        return f"input {_OPTION_INPUTS[match.group()]}{message[match.end() :]}"
    return message


def version_first(tags: Sequence[str], version: str | None) -> tuple[str, ...]:
    """``tags`` with the version tag (when pushed) first, the others in their order."""
    if version and version in tags:
        return (version, *(tag for tag in tags if tag != version))
    return tuple(tags)


def _describe(row: ExecutorRow, mode: Mode) -> str:
    """A commit status description: what happened, in a few words."""
    if row.result is None:
        return "validation errors: see the annotations; nothing was pushed"
    if row.result.error:
        return row.result.error
    ex = row.result.executor
    if row.status == "succeeded" and ex and ex.docker_uri:
        return (
            f"rehearsed: built {ex.docker_uri}" if mode == "rehearse" else f"built {ex.docker_uri}"
        )
    if row.status == "validated":
        return "validated; nothing pushed"
    return row.status


def _status_of(result_status: str) -> str:
    return "validated" if result_status == "dry-run" else result_status


class ActionRun:
    def __init__(
        self,
        inputs: ActionInputs,
        env: Mapping[str, str],
        out: TextIO | None = None,
    ) -> None:
        self.inputs = inputs
        self.env = env
        self.console = Console(stdout=out)
        #: the job log: annotations and a group per executor (stdout, as the runner reads it)
        self.reporter = Reporter(out or sys.stdout, github=True)
        self.out = out
        self.workspace = _workspace(env)
        self.mode = resolve_mode(inputs.mode, env.get("GITHUB_EVENT_NAME", ""))
        self.summary = RunSummary(mode=self.mode, hub="-", builder=None, version=None)
        self.github = _github(inputs, env)

    def run(self) -> int:
        started = time.monotonic()
        try:
            return self._run()
        except HubciError as exc:
            message = as_input_names(exc.format_message())
            self.reporter.error(message, title="hubci")
            self.summary.error = message
            return exc.exit_code
        finally:
            self.summary.duration_s = time.monotonic() - started
            self._finish()

    def _run(self) -> int:
        from hubci.executor.paths import expand_paths, split_items
        from hubci.tags import TagOptions
        from hubci.tags.rules import DEFAULT_RULES

        inputs = self.inputs
        how = "from auto" if inputs.mode == "auto" else "as configured"
        self.console.line(f"hubci {__version__}: mode {self.mode} ({how})")
        folders = expand_paths(split_items(inputs.paths), self.workspace)
        tag_rules = TagOptions(
            tags_rules=inputs.tags or "\n".join(DEFAULT_RULES),
            flavor_rules=inputs.flavor or None,
            protected_rules=inputs.protected_tags or None,
        )
        _context, tag_plan = tag_rules.resolve(env=self.env, cwd=self.workspace)
        self.summary.version = tag_plan.version
        for warning in tag_plan.warnings:
            self.reporter.warning(warning, title="hubci tags")
        with _hub(self.mode, inputs, self.env, self.console) as (url, token, builder, hub):
            self.summary.hub, self.summary.builder = hub, builder
            plans = _plans(
                folders, inputs, self.mode, tag_rules, url, token, self.env, self.workspace
            )
            reports = _validate(plans, self.workspace, self.console)
            self.summary.reports = reports
            if not all(r.ok() for r in reports):
                bad = sum(not r.ok() for r in reports)
                self.summary.rows = [
                    ExecutorRow(
                        r.path,
                        p.name,
                        "skipped" if r.ok() else "failed",
                        EXIT_OK if r.ok() else EXIT_USAGE,
                        None,
                        p.platforms,
                        version_first(p.tags + p.protected_tags, tag_plan.version),
                    )
                    for r, p in zip(reports, plans, strict=True)
                ]
                self.summary.error = (
                    f"{bad} of {len(reports)} executor(s) have validation errors; nothing was "
                    "pushed"
                )
                self.reporter.error(self.summary.error, title="hubci")
                self._final_statuses()
                return EXIT_USAGE
            doing = "validating" if self.mode == "validate" else "pushing"
            for plan in plans:
                self._status(plan.name, "pending", doing, None)
            outcomes = push_many(plans, JOBS, sink=self.reporter, validate_first=False)
        for o in outcomes:
            if o.result.executor is not None:
                # the uri outputs and the usage snippet name the first tag: make it the version
                ex = o.result.executor
                o.result.executor = replace(ex, tags=version_first(ex.tags, tag_plan.version))
        self.summary.rows = [
            ExecutorRow(
                _relative(o.plan.folder, self.workspace),
                o.plan.name,
                _status_of(o.result.status),
                o.exit_code,
                o.result,
                o.plan.platforms,
                version_first(o.plan.tags + o.plan.protected_tags, tag_plan.version),
            )
            for o in outcomes
        ]
        for row in self.summary.rows:
            if row.exit_code and row.result and row.result.error:
                self.reporter.error(row.result.error, title=f"hubci {row.folder}")
        self._final_statuses()
        return worst_exit_code(outcomes)

    def _status(self, name: str, state: State, description: str, target: str | None) -> None:
        if self.github is not None and self.inputs.commit_status:
            self.github.set_status(name, state, description=description, target_url=target)

    def _final_statuses(self) -> None:
        for row in self.summary.rows:
            if row.status == "skipped":  # valid, but not pushed: no pending status was set
                continue
            # failure: the executor itself is wrong (build failed, validation errors);
            # error: the run could not finish it (Hub unreachable, timeout)
            state: State = (
                "success"
                if row.exit_code == EXIT_OK
                else "failure"
                if row.exit_code in (EXIT_FAILED, EXIT_USAGE)
                else "error"
            )
            ex = row.result.executor if row.result else None
            self._status(row.name or row.folder, state, _describe(row, self.mode), self._link(ex))

    def _link(self, ex: ExecutorInfo | None) -> str | None:
        """The executor's page on the public Hub after a push there, else the workflow run."""
        hub = self.inputs.hub_url or self.env.get("JINA_HUBBLE_REGISTRY") or rules.DEFAULT_HUB_URL
        if self.mode == "push" and ex and ex.id and hub.rstrip("/") == rules.DEFAULT_HUB_URL:
            return rules.HUB_WEB_URL.format(id=ex.id)
        return self.github.context.run_url if self.github is not None else None

    def _finish(self) -> None:
        markdown = write_results(self.summary, self.env)
        if self.github is not None and self.inputs.pr_comment:
            self.github.upsert_pr_comment(markdown)
        if self.github is not None:
            for warning in self.github.warnings:
                self.reporter.warning(warning, title="GitHub feedback")


def write_results(summary: RunSummary, env: Mapping[str, str]) -> str:
    """Write every output to $GITHUB_OUTPUT and the summary to $GITHUB_STEP_SUMMARY (both
    redacted by :mod:`hubci.output.commands`); returns the summary markdown."""
    rows = summary.rows
    status = rows_status(rows) if rows else "failed"
    first = rows[0] if rows else None
    ex = first.result.executor if first and first.result else None
    tags = list(ex.tags) if ex and ex.tags else list(first.tags) if first else []
    result_json = {
        "mode": summary.mode,
        "status": status,
        "version": summary.version,
        "error": summary.error,
        "executors": [
            {
                **(row.result.to_json() if row.result else {}),
                "path": row.folder,
                "name": row.name,
                "status": row.status,
                "exit_code": row.exit_code,
            }
            for row in rows
        ],
    }
    outputs: dict[str, str | commands.JsonOutput] = {
        "executor-id": (ex.id if ex else None) or "",
        "name": (ex.name if ex and ex.name else first.name if first else None) or "",
        "owner": (ex.owner if ex else None) or "",
        "uri": (ex.uri if ex else None) or "",
        "docker-uri": (ex.docker_uri if ex else None) or "",
        "tags": "\n".join(tags),
        "version": summary.version or "",
        "task-id": (first.result.task_id if first and first.result else None) or "",
        "status": status,
        "visibility": (ex.visibility if ex else None) or "",
        "result-json": commands.JsonOutput(result_json),
    }
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        commands.write_outputs(Path(output_file), outputs)
    markdown = render(summary)
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        commands.write_summary(Path(summary_file), markdown)
    return markdown


def _github(inputs: ActionInputs, env: Mapping[str, str]) -> GitHubReporter | None:
    if not (inputs.commit_status or inputs.pr_comment) or not inputs.github_token:
        return None
    from hubci.github import GitHubContext, GitHubReporter

    context = GitHubContext.from_env(env, inputs.github_token)
    return GitHubReporter(context) if context is not None else None


def run_action(env: Mapping[str, str], out: TextIO | None = None) -> int:
    """The whole Action: register and mask the secrets, read the inputs, run; a bad input is
    reported like any other error (annotation, summary, ``status: failed``)."""
    console = Console(stdout=out)
    for key, value in secret_values(env):
        register(value, key=key)
        console.add_masks(value)
    try:
        inputs = read_inputs(env)
    except UsageError as exc:
        message = exc.format_message()
        Reporter(out or sys.stdout, github=True).error(message, title="hubci")
        mode = env.get(env_name("mode"), "").strip() or "auto"
        write_results(
            RunSummary(mode=mode, hub="-", builder=None, version=None, error=message), env
        )
        return exc.exit_code
    return ActionRun(inputs, env, out).run()
