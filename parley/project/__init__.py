"""Reading Rasa-format assistant projects into typed, immutable objects."""

from parley.project.config import ComponentConfig, ProjectConfig
from parley.project.domain import Domain, Form, Intent, ResponseVariation, Slot, SlotMapping
from parley.project.entities import EntityAnnotation, parse_annotated
from parley.project.errors import Location, Problem, ProjectError
from parley.project.loader import Project, load_nlu_data, load_project, load_stories, read_project
from parley.project.nlu_data import LookupTable, NLUData, NLUExample, RegexPattern
from parley.project.stories import (
    ANY_VALUE,
    ActionStep,
    ActiveLoopStep,
    CheckpointStep,
    OrStep,
    Rule,
    SlotStep,
    Story,
    UserStep,
)

__all__ = [
    "ANY_VALUE",
    "ActionStep",
    "ActiveLoopStep",
    "CheckpointStep",
    "ComponentConfig",
    "Domain",
    "EntityAnnotation",
    "Form",
    "Intent",
    "Location",
    "LookupTable",
    "NLUData",
    "NLUExample",
    "OrStep",
    "Problem",
    "Project",
    "ProjectConfig",
    "ProjectError",
    "RegexPattern",
    "ResponseVariation",
    "Rule",
    "Slot",
    "SlotMapping",
    "SlotStep",
    "Story",
    "UserStep",
    "load_nlu_data",
    "load_project",
    "load_stories",
    "parse_annotated",
    "read_project",
]
