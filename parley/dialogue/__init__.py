"""The dialogue engine: events, tracker, slots, actions, policies and the turn loop."""

from parley.dialogue.contradictions import CONTRADICTION_CHECKS
from parley.project import validate as _validate

for _check in CONTRADICTION_CHECKS:
    if _check not in _validate.CHECKS:
        _validate.CHECKS.append(_check)
