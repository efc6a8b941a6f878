"""Read a Rasa-format project folder into one immutable `Project`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.project.config import ProjectConfig, parse_config
from parley.project.domain import Domain, ResponseVariation
from parley.project.domain_reader import parse_domain, parse_responses
from parley.project.errors import Location, Problem, ProblemSink, ProjectError
from parley.project.nlu_data import NLUData, parse_nlu_section
from parley.project.stories import Rule, Story, parse_rules_section, parse_stories_section
from parley.project.yamlio import check_keys, node_location, plain, read_yaml

YAML_SUFFIXES = (".yml", ".yaml")
DATA_KEYS = ("version", "nlu", "stories", "rules", "responses")


@dataclass(frozen=True)
class Project:
    """A whole assistant project, as read from its folder."""

    root: Path
    config: ProjectConfig = field(default_factory=ProjectConfig)
    domain: Domain = field(default_factory=Domain)
    nlu: NLUData = field(default_factory=NLUData)
    stories: tuple[Story, ...] = ()
    rules: tuple[Rule, ...] = ()
    test_stories: tuple[Story, ...] = ()
    endpoints: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    files: tuple[Path, ...] = ()


@dataclass
class _DataFiles:
    nlu: NLUData = field(default_factory=NLUData)
    stories: list[Story] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    responses: dict[str, tuple[ResponseVariation, ...]] = field(default_factory=dict)
    response_locations: dict[str, Location] = field(default_factory=dict)


def yaml_files(folder: Path) -> list[Path]:
    """Every YAML file below `folder`, any nesting, in a stable order."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def read_data_file(path: Path, sink: ProblemSink, into: _DataFiles) -> None:
    """Read one training-data file (any of nlu, stories, rules, responses)."""
    node = read_yaml(path, sink)
    if node is None:
        return
    if not isinstance(node, dict):
        sink.error(
            node_location(path, node), "a data file must be a mapping (nlu:, stories:, rules:)"
        )
        return
    check_keys(path, node, DATA_KEYS, sink, "a data file")
    if "nlu" in node and node["nlu"] is not None:
        into.nlu = into.nlu.merge(parse_nlu_section(path, node["nlu"], sink))
    if "stories" in node and node["stories"] is not None:
        into.stories.extend(parse_stories_section(path, node["stories"], sink))
    if "rules" in node and node["rules"] is not None:
        into.rules.extend(parse_rules_section(path, node["rules"], sink))
    if "responses" in node and node["responses"] is not None:
        responses, locations = parse_responses(path, node["responses"], sink)
        into.responses.update(responses)
        into.response_locations.update(locations)


def _read_domain(root: Path, sink: ProblemSink) -> tuple[Domain, list[Path]]:
    folder = root / "domain"
    files = yaml_files(folder) if folder.is_dir() else []
    single = next((root / n for n in ("domain.yml", "domain.yaml") if (root / n).is_file()), None)
    if single is not None:
        files = [single, *files]
    if not files:
        sink.error(Location(root / "domain.yml"), "no domain: add domain.yml or a domain/ folder")
        return Domain(), []
    domain = Domain()
    for path in files:
        domain = domain.merge(parse_domain(path, read_yaml(path, sink), sink))
    return domain, files


def _read_mapping_file(path: Path, sink: ProblemSink) -> dict[str, Any]:
    if not path.is_file():
        return {}
    node = read_yaml(path, sink)
    if node is None:
        return {}
    if not isinstance(node, dict):
        sink.error(node_location(path, node), f"{path.name} must be a mapping")
        return {}
    return dict(plain(node))


def read_project(
    root: Path,
    data_paths: list[Path] | None = None,
    test_paths: list[Path] | None = None,
) -> tuple[Project, list[Problem]]:
    """Read everything; never raises for bad files, returns the problems instead."""
    sink = ProblemSink()
    config_path = root / "config.yml"
    config = (
        parse_config(config_path, read_yaml(config_path, sink), sink)
        if config_path.is_file()
        else ProjectConfig()
    )
    domain, domain_files = _read_domain(root, sink)
    data = _DataFiles()
    data_files = [f for p in (data_paths or [root / "data"]) for f in yaml_files(p)]
    for path in data_files:
        read_data_file(path, sink, data)
    tests = _DataFiles()
    test_files = [f for p in (test_paths or [root / "tests"]) for f in yaml_files(p)]
    for path in test_files:
        read_data_file(path, sink, tests)
    if data.responses:
        domain = Domain(
            domain.intents,
            domain.entities,
            domain.slots,
            {**domain.responses, **data.responses},
            domain.actions,
            domain.forms,
            domain.session_config,
            {**domain.response_locations, **data.response_locations},
            domain.action_locations,
        )
    project = Project(
        root=root,
        config=config,
        domain=domain,
        nlu=data.nlu,
        stories=tuple(data.stories),
        rules=tuple(data.rules),
        test_stories=tuple(tests.stories),
        endpoints=_read_mapping_file(root / "endpoints.yml", sink),
        credentials=_read_mapping_file(root / "credentials.yml", sink),
        files=tuple([config_path, *domain_files, *data_files, *test_files]),
    )
    return project, sink.problems


def load_project(
    root: Path | str,
    data_paths: list[Path] | None = None,
    test_paths: list[Path] | None = None,
) -> Project:
    """Load a project; raises ProjectError listing every error when any file is broken."""
    project, problems = read_project(Path(root), data_paths, test_paths)
    if any(p.severity == "error" for p in problems):
        raise ProjectError(problems)
    return project


def _read_data_files(paths: list[Path]) -> _DataFiles:
    sink = ProblemSink()
    data = _DataFiles()
    for path in (f for p in paths for f in yaml_files(Path(p))):
        read_data_file(path, sink, data)
    if sink.has_errors:
        raise ProjectError(sink.problems)
    return data


def load_stories(paths: list[Path]) -> tuple[Story, ...]:
    """Read the stories of files or folders (e.g. test stories for `parley test`)."""
    return tuple(_read_data_files(paths).stories)


def load_rules(paths: list[Path]) -> tuple[Rule, ...]:
    """Read the rules of files or folders (to replay them as tests, as `rasa test core`)."""
    return tuple(_read_data_files(paths).rules)


def load_nlu_data(paths: list[Path]) -> NLUData:
    """Read NLU examples from files or folders (e.g. a benchmark's train.yml)."""
    return _read_data_files(paths).nlu


def read_rules_and_stories(paths: list[Path]) -> tuple[tuple[Story, ...], tuple[Rule, ...]]:
    """The stories and rules of files or folders (e.g. for `parley visualize`)."""
    data = _read_data_files(paths)
    return tuple(data.stories), tuple(data.rules)
