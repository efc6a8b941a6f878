"""Knowledge-base actions, as `rasa_sdk.knowledge_base`: same modules (`storage`, `actions`,
`utils`), names and slot semantics, so `from rasa_sdk.knowledge_base.storage import ...`
becomes `from parley.sdk.knowledge_base.storage import ...`."""

from parley.sdk.knowledge_base.actions import ActionQueryKnowledgeBase
from parley.sdk.knowledge_base.storage import InMemoryKnowledgeBase, KnowledgeBase

__all__ = ["ActionQueryKnowledgeBase", "InMemoryKnowledgeBase", "KnowledgeBase"]
