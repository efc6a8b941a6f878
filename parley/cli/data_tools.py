"""`parley data split nlu`, `parley data convert nlu`, `parley data migrate`, `parley visualize`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import app, console, data_app

if TYPE_CHECKING:
    from parley.project.errors import ProblemSink

split_app = typer.Typer(help="Split training data into train and test sets.", no_args_is_help=True)
convert_app = typer.Typer(help="Convert older Rasa data formats to 3.x YAML.", no_args_is_help=True)
data_app.add_typer(split_app, name="split")
data_app.add_typer(convert_app, name="convert")


def _report(sink: ProblemSink) -> None:
    from parley.project.errors import ProjectError

    for problem in sink.problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
    if sink.has_errors:
        raise ProjectError(sink.problems)


@split_app.command("nlu")
def split_nlu_command(
    nlu: list[Path] = typer.Option([Path("data")], "--nlu", "-u", help="NLU files or folders."),
    training_fraction: float = typer.Option(0.8, "--training-fraction", help="Share for training."),
    random_seed: int = typer.Option(42, "--random-seed", help="Same seed, same split."),
    out: Path = typer.Option(Path("train_test_split"), "--out", help="Output folder."),
) -> None:
    """A stratified, seeded split: training_data.yml and test_data.yml (as Rasa's)."""
    from parley.project.loader import load_nlu_data
    from parley.project.nlu_writer import write_nlu
    from parley.project.split import split_nlu

    data = load_nlu_data(list(nlu))
    if not data.examples:
        console.print(f"[red]error:[/red] no NLU examples in {', '.join(map(str, nlu))}")
        raise typer.Exit(1)
    try:
        split = split_nlu(data, training_fraction, random_seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    write_nlu(split.train, out / "training_data.yml")
    write_nlu(split.test, out / "test_data.yml")
    console.print(
        f"{len(split.train.examples)} training and {len(split.test.examples)} test examples "
        f"in {out}/training_data.yml and {out}/test_data.yml",
        highlight=False,
    )


@convert_app.command("nlu")
def convert_nlu_command(
    data: list[Path] = typer.Option(..., "--data", help="Markdown or JSON NLU files or folders."),
    out: Path = typer.Option(Path("data"), "--out", help="Folder for the YAML files."),
) -> None:
    """Rasa 1.x/2.x Markdown and JSON NLU data to 3.x YAML (`<name>_converted.yml`)."""
    from parley.project.convert import SUFFIXES, ConvertError, read_legacy_nlu
    from parley.project.errors import ProblemSink
    from parley.project.nlu_writer import write_nlu

    files = [
        f
        for given in data
        for f in (sorted(given.rglob("*")) if given.is_dir() else [given])
        if f.suffix in SUFFIXES and f.is_file()
    ]
    if not files:
        console.print("[red]error:[/red] no .md or .json files to convert")
        raise typer.Exit(1)
    sink = ProblemSink()
    written = []
    for file in files:
        try:
            converted = read_legacy_nlu(file, sink)
        except ConvertError as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
        target = out / f"{file.stem}_converted.yml"
        if target.exists():
            console.print(f"[red]error:[/red] {target} exists; remove it or choose --out")
            raise typer.Exit(1)
        if not sink.has_errors:
            write_nlu(converted, target)
            written.append((target, len(converted.examples)))
    _report(sink)
    for target, count in written:
        console.print(f"{target}: {count} examples", highlight=False)


@data_app.command("migrate")
def migrate_command(
    domain: Path = typer.Option(Path("domain.yml"), "--domain", "-d", help="A 2.x domain file."),
    out: Path | None = typer.Option(None, "--out", help="Default: new_domain.yml beside it."),
) -> None:
    """A Rasa 2.x domain to the 3.x format (slot mappings, forms' required_slots)."""
    from parley.project.migrate import MigrationError, migrate_domain_file

    if not domain.is_file():
        raise typer.BadParameter(f"{domain} is not a file")
    try:
        target, result = migrate_domain_file(domain, out)
    except MigrationError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(f"Migrated {domain} -> {target} (the original is unchanged)", highlight=False)


@app.command("visualize")
def visualize(
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    stories: list[Path] | None = typer.Option(
        None, "--stories", "-s", help="Story/rule files or folders (default: the project's data)."
    ),
    out: Path = typer.Option(Path("graph.html"), "--out", help="The HTML page to write."),
    png: bool = typer.Option(True, "--png/--no-png", help="Also write the graph as a PNG."),
    rules: bool = typer.Option(True, "--rules/--no-rules", help="Draw rules too (dashed)."),
) -> None:
    """The story and rule graph: an interactive HTML page (and a PNG beside it)."""
    from parley.project.loader import load_project, read_rules_and_stories
    from parley.visualize import build_graph, render_html, render_png

    if stories:
        found_stories, found_rules = read_rules_and_stories(list(stories))
    else:
        loaded = load_project(project)
        found_stories, found_rules = loaded.stories, loaded.rules
    graph = build_graph(found_stories, found_rules if rules else ())
    out.write_text(render_html(graph, f"Stories and rules of {project.resolve().name}"))
    console.print(f"{out}: {len(graph.paths)} paths, {len(graph.nodes)} steps", highlight=False)
    if png:
        try:
            render_png(graph, out.with_suffix(".png"))
            console.print(f"{out.with_suffix('.png')}", highlight=False)
        except ImportError:
            console.print("[yellow]warning:[/yellow] no PNG: install 'parley[plots]' (matplotlib)")
