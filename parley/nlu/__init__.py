"""Parley's NLU: intents, entities, retrieval responses and fallback, in Rasa's parse format."""

from parley.nlu.component import NLUError
from parley.nlu.interpreter import Interpreter, load
from parley.nlu.registry import check_pipeline
from parley.project import validate as _validate

if check_pipeline not in _validate.CHECKS:
    _validate.CHECKS.append(check_pipeline)

__all__ = ["Interpreter", "NLUError", "load"]
