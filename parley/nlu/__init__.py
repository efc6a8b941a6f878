"""Parley's NLU: intents, entities, retrieval responses and fallback, in Rasa's parse format."""

from parley.nlu.component import NLUError
from parley.nlu.interpreter import Interpreter, load

__all__ = ["Interpreter", "NLUError", "load"]
