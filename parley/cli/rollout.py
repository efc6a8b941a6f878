"""`parley models …` (the registry) and `parley rollout …` (releasing a model to X % of users)."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from parley.cli._stores import ENDPOINTS_OPTION, PROJECT_OPTION, read_endpoints
from parley.cli.app import app, console

if TYPE_CHECKING:  # the registry's modules load SQLAlchemy: imported when a command runs
    from parley.models.guards import RolloutPlan
    from parley.models.service import Releases

models_app = typer.Typer(
    help="The model registry: versions, figures and tags.", no_args_is_help=True
)
rollout_app = typer.Typer(
    help="Release a model to a sticky share of users, step it up, promote or roll back.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")
app.add_typer(rollout_app, name="rollout")

T = TypeVar("T")


def _with_releases(
    project: Path, endpoints: Path | None, work: Callable[[Releases], Awaitable[T]]
) -> T:
    from parley.models.guards import PlanError
    from parley.models.registry import RegistryError
    from parley.models.rollout import RolloutError
    from parley.models.service import open_releases

    config = read_endpoints(project, endpoints)

    async def run() -> T:
        releases = await open_releases(config, project.resolve())
        try:
            return await work(releases)
        finally:
            await releases.close()

    try:
        return asyncio.run(run())
    except (RegistryError, RolloutError, PlanError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


def _audit(project: Path, action: str, target: str, details: dict[str, object]) -> None:
    """The change in the audit log, when the project has access control."""
    from parley.cli._access import audit_cli_action

    audit_cli_action(project, action, target, details)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container without passwd entries
        return "unknown"


# -- parley models ------------------------------------------------------------------------------


@models_app.command("list")
def list_models(
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every registered version, newest first, with its tags and figures."""
    versions = _with_releases(project, endpoints, lambda r: r.registry.list())
    if as_json:
        typer.echo(json.dumps([v.to_json() for v in versions], indent=2))
        return
    if not versions:
        console.print("No model is registered yet (`parley train` registers each new model).")
    for v in versions:
        tags = f" [{', '.join(v.tags)}]" if v.tags else ""
        by = f" by {v.trained_by}" if v.trained_by else ""
        figures = ", ".join(f"{k}: {_summary(f)}" for k, f in sorted(v.figures.items()))
        line = f"{v.version}{tags}  trained {_when(v.created_at)}{by}"
        console.print(line + (f"  {figures}" if figures else ""), highlight=False)


def _summary(figures: Any) -> str:
    if isinstance(figures, dict):
        return " ".join(f"{k}={v}" for k, v in sorted(figures.items()) if not isinstance(v, dict))
    return str(figures)


@models_app.command("register")
def register(
    archive: Path = typer.Argument(..., help="A model archive (models/<id>.tar.gz)."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
    tag: list[str] = typer.Option([], "--tag", help="Tags to give it (repeatable)."),
) -> None:
    """Register an archive trained elsewhere (CI) in the registry."""

    async def work(releases: Releases) -> str:
        version = await releases.register(archive, project.resolve(), _user())
        for name in tag:
            await releases.registry.tag(version.version, name)
        return version.version

    version = _with_releases(project, endpoints, work)
    _audit(project, "model_register", version, {"archive": archive.name})
    for name in tag:
        _audit(project, "model_tag", version, {"tag": name})
    console.print(f"Registered {version}", highlight=False)


@models_app.command("tag")
def tag_model(
    version: str = typer.Argument(..., help="A registered version."),
    tag: str = typer.Argument(..., help="e.g. production, candidate, or your own."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Give a tag to a version (a tag names one version at a time)."""
    _with_releases(project, endpoints, lambda r: r.registry.tag(version, tag))
    _audit(project, "model_tag", version, {"tag": tag})
    console.print(f"{tag} -> {version}", highlight=False)


@models_app.command("untag")
def untag_model(
    tag: str = typer.Argument(...),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Remove a tag."""
    removed = _with_releases(project, endpoints, lambda r: r.registry.untag(tag))
    console.print(f"removed {tag}" if removed else f"no tag {tag}", highlight=False)


def register_trained(archive: Path, project: Path) -> None:
    """Called by `parley train`: register the new archive (a failure only warns)."""
    from parley.models.service import open_releases

    try:
        config = read_endpoints(project, None)

        async def run() -> str:
            releases = await open_releases(config, project.resolve())
            try:
                return (await releases.register(archive, project.resolve(), _user())).version
            finally:
                await releases.close()

        version = asyncio.run(run())
        console.print(f"Registered model {version} (`parley models list`)", highlight=False)
    except Exception as exc:
        console.print(f"[yellow]warning:[/yellow] the model was not registered: {exc}")


# -- parley rollout -----------------------------------------------------------------------------


def _plan(path: Path | None) -> RolloutPlan | None:
    if path is None:
        return None
    from parley.models.guards import RolloutPlan
    from parley.project.errors import ProblemSink, ProjectError
    from parley.project.yamlio import read_yaml

    sink = ProblemSink()
    raw = read_yaml(path, sink)
    if sink.has_errors:
        raise ProjectError(sink.problems)
    return RolloutPlan.from_json(raw if isinstance(raw, dict) else {})


@rollout_app.command("start")
def start(
    candidate: str = typer.Option(..., "--candidate", help="Version or tag to roll out."),
    percent: float = typer.Option(10.0, "--percent", help="Share of users on the candidate."),
    control: str | None = typer.Option(None, "--control", help="Default: the production tag."),
    plan: Path | None = typer.Option(None, "--plan", help="YAML of auto-steps and guards."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Serve the candidate to a sticky share of users (every replica follows within 2 s)."""
    experiment = _with_releases(
        project,
        endpoints,
        lambda r: r.start(candidate, percent, control, _plan(plan), by=_user()),
    )
    _audit(project, "rollout_start", experiment.id,
           {"candidate": experiment.candidate, "percent": experiment.percent})  # fmt: skip
    console.print(
        f"Rollout {experiment.id}: {experiment.candidate} serves {experiment.percent}% "
        f"of users; {experiment.control} the rest.",
        highlight=False,
    )


@rollout_app.command("step")
def step(
    percent: float = typer.Option(..., "--percent", help="New share of users."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Change the candidate's share; users already on it stay when it grows."""
    experiment = _with_releases(project, endpoints, lambda r: r.rollouts.step(percent, _user()))
    _audit(project, "rollout_step", experiment.id, {"percent": experiment.percent})
    console.print(f"{experiment.candidate} now serves {experiment.percent}% of users.")


@rollout_app.command("promote")
def promote(project: Path = PROJECT_OPTION, endpoints: Path | None = ENDPOINTS_OPTION) -> None:
    """The candidate serves everyone and is tagged production."""
    experiment = _with_releases(project, endpoints, lambda r: r.promote(_user()))
    _audit(project, "rollout_promote", experiment.id, {"candidate": experiment.candidate})
    console.print(f"{experiment.candidate} is now the production model.", highlight=False)


@rollout_app.command("rollback")
def rollback(
    reason: str | None = typer.Option(None, "--reason"),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Everyone back on the control model at their next turn."""
    experiment = _with_releases(project, endpoints, lambda r: r.rollouts.rollback(_user(), reason))
    _audit(project, "rollout_rollback", experiment.id, {"reason": reason})
    console.print(f"Rolled back: {experiment.control} serves everyone.", highlight=False)


@rollout_app.command("status")
def status(
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
    apply: bool = typer.Option(
        False, "--apply", help="Carry out what the guards decide (step, promote, roll back)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The rollout in force, per-version metrics with intervals and the guards' verdict."""
    from parley.stores.factory import create_tracker_store

    config = read_endpoints(project, endpoints)

    async def work(releases: Releases) -> dict[str, Any] | None:
        store = await create_tracker_store(config, project.resolve())
        try:
            evaluation = await releases.evaluate(store, apply=apply)
        finally:
            await store.close()
        if evaluation is not None:
            return evaluation.to_json()
        current = await releases.rollouts.current()
        return {"experiment": current.to_json()} if current else None

    result = _with_releases(project, endpoints, work)
    if as_json or result is None:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_status(result)


def _print_status(result: dict[str, Any]) -> None:
    experiment = result["experiment"]
    console.print(
        f"{experiment['id']} [{experiment['status']}]: {experiment['candidate']} at "
        f"{experiment['percent']}% against {experiment['control']}",
        highlight=False,
    )
    for version, metrics in (result.get("metrics") or {}).items():
        console.print(f"  {version}: {metrics['conversations']} conversations", highlight=False)
        for name in ("fallback_rate", "handoff_rate", "containment", "action_error_rate"):
            value = metrics[name]["value"]
            low, high = metrics[name]["interval"]
            shown = "-" if value is None else f"{value:.3f} [{low:.3f}, {high:.3f}]"
            console.print(f"    {name}: {shown}", highlight=False)
    decision = result.get("decision")
    if decision:
        console.print(f"  guards: {decision['action']}: {decision['reason']}", highlight=False)


@rollout_app.command("diff")
def diff(
    version: str = typer.Argument(..., help="The candidate: a registered version or tag."),
    conversations: int = typer.Option(1000, "--conversations", "-n", help="How many, newest."),
    sample: int = typer.Option(20, "--sample", help="Differing turns to show."),
    out: Path | None = typer.Option(None, "--out", help="Write the whole report as JSON."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Shadow evaluation: replay the last N real conversations' messages through the
    candidate offline and show the turns whose intent, entities or next action differ."""
    from parley.agent import Agent
    from parley.stores.factory import create_tracker_store
    from parley.testing.shadow import shadow_evaluate

    config = read_endpoints(project, endpoints)
    cache = project.resolve() / ".parley" / "models"

    async def work(releases: Releases) -> dict[str, Any]:
        archive = await releases.registry.fetch(
            (await releases.registry.resolve(version)).version, cache
        )
        candidate = await asyncio.to_thread(Agent.load, archive)
        store = await create_tracker_store(config, project.resolve())
        try:
            report = await shadow_evaluate(candidate, store, conversations)
        finally:
            await store.close()
            await candidate.close()
        result = report.to_json(sample=sample)
        if out is not None:
            out.write_text(json.dumps(report.to_json(sample=len(report.diffs)), indent=2))
        return result

    result = _with_releases(project, endpoints, work)
    console.print(
        f"{result['differing_turns']} of {result['turns']} turns in "
        f"{result['conversations']} conversations differ "
        f"({', '.join(f'{k}: {v}' for k, v in result['by_kind'].items()) or 'none'})",
        highlight=False,
    )
    for intent, count in result["by_production_intent"].items():
        console.print(f"  {intent}: {count}", highlight=False)
    for turn in result["sample"]:
        p, c = turn["production"], turn["candidate"]
        console.print(
            f"  {turn['sender_id']} #{turn['event_index']} {turn['text']!r}: "
            f"intent {p['intent']} -> {c['intent']}, action {p['action']} -> {c['action']}",
            highlight=False,
        )


def record_test_figures(project: Path, archive: Path, name: str, figures: dict[str, Any]) -> None:
    """Attach test figures to the tested model in the registry when it is registered there
    (`parley test`, `parley test nlu`); a registry problem only warns."""
    from parley.models.archive import read_manifest
    from parley.models.service import open_releases

    try:
        version = read_manifest(archive).model_id
        config = read_endpoints(project, None)

        async def run() -> bool:
            releases = await open_releases(config, project.resolve())
            try:
                if await releases.registry.find(version) is None:
                    return False
                await releases.registry.record_figures(version, name, figures)
                return True
            finally:
                await releases.close()

        if asyncio.run(run()):
            console.print(f"Figures recorded for model {version} in the registry.")
    except Exception as exc:
        console.print(f"[yellow]warning:[/yellow] the figures were not recorded: {exc}")
