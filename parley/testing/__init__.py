"""Conversation tests (`parley test`): replay test stories through an Agent, report mistakes."""

from parley.testing.cases import StoryCase, Turn, story_cases
from parley.testing.live import run_stories_live
from parley.testing.replay import Outcome, StoryResult, replay_story, run_stories
from parley.testing.report import write_results

__all__ = [
    "Outcome",
    "StoryCase",
    "StoryResult",
    "Turn",
    "replay_story",
    "run_stories",
    "run_stories_live",
    "story_cases",
    "write_results",
]
