"""Topic-specific fallback: a low-confidence message whose likely intents share a topic.

Configured on the RulePolicy, e.g.::

    - name: RulePolicy
      topic_fallbacks:
        - intent_prefix: credit_card_
          action: utter_credit_card_team
          min_share: 0.5

When NLU falls back (`nlu_fallback`) but the best candidate intent starts with `intent_prefix`
and the topic's intents hold at least `min_share` of the ranking's confidence, the topic's
response/action answers instead of the generic fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NLU_FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class TopicFallback:
    intent_prefix: str
    action: str
    min_share: float = 0.5


def parse_topic_fallbacks(raw: Any) -> list[TopicFallback]:
    """Accepts a list of mappings or a mapping of prefix to action."""
    if not raw:
        return []
    if isinstance(raw, dict):
        return [TopicFallback(str(k), str(v)) for k, v in raw.items()]
    topics = []
    for item in raw:
        if isinstance(item, dict) and "intent_prefix" in item and "action" in item:
            topics.append(
                TopicFallback(
                    str(item["intent_prefix"]),
                    str(item["action"]),
                    float(item.get("min_share", 0.5)),
                )
            )
    return topics


def topic_action(topics: list[TopicFallback], parse_data: dict[str, Any]) -> str | None:
    """The topic action for a fallback message, or None when no topic is clear enough."""
    intent = parse_data.get("intent") or {}
    if not topics or intent.get("name") != NLU_FALLBACK:
        return None
    ranking = [
        r
        for r in parse_data.get("intent_ranking") or []
        if isinstance(r, dict) and r.get("name") and r.get("name") != NLU_FALLBACK
    ]
    total = sum(float(r.get("confidence") or 0.0) for r in ranking)
    if not ranking or total <= 0:
        return None
    best = max(ranking, key=lambda r: float(r.get("confidence") or 0.0))
    for topic in topics:
        if not str(best["name"]).startswith(topic.intent_prefix):
            continue
        share = sum(
            float(r.get("confidence") or 0.0)
            for r in ranking
            if str(r["name"]).startswith(topic.intent_prefix)
        )
        if share / total >= topic.min_share:
            return topic.action
    return None
