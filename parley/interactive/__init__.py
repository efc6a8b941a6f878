"""Interactive learning: talk to the assistant, correct it, save what it should have done."""

from parley.interactive.recorder import RecordedStory, save_examples, save_story
from parley.interactive.session import InteractiveSession, Suggestion

__all__ = ["InteractiveSession", "RecordedStory", "Suggestion", "save_examples", "save_story"]
