"""Dialogue policies with Rasa's names: RulePolicy, (Augmented)MemoizationPolicy, TEDPolicy."""

from parley.dialogue.policies.base import Policy, PolicyError, PolicyPrediction, TrainingData
from parley.dialogue.policies.ensemble import PolicyEnsemble, build_policies
from parley.dialogue.policies.memoization import AugmentedMemoizationPolicy, MemoizationPolicy
from parley.dialogue.policies.rule import RulePolicy
from parley.dialogue.policies.ted import TEDPolicy

__all__ = [
    "AugmentedMemoizationPolicy",
    "MemoizationPolicy",
    "Policy",
    "PolicyEnsemble",
    "PolicyError",
    "PolicyPrediction",
    "RulePolicy",
    "TEDPolicy",
    "TrainingData",
    "build_policies",
]
