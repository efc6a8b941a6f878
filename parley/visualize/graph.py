"""The story and rule graph: every path of the training data, shared prefixes merged.

Each story (and rule) is a path from START to END. A step is a node; two paths share a node while
their steps so far are the same, so the graph shows where conversations branch. A checkpoint is
one node by name (stories ending in it lead to the stories starting from it), and an `or` step is
one node per alternative, which join again at the step after it. Rules start from their
condition and are drawn apart from stories (`kind`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parley.project.stories import (
    ActionStep,
    ActiveLoopStep,
    CheckpointStep,
    OrStep,
    Rule,
    SlotStep,
    Step,
    Story,
    UserStep,
)

START, END = "START", "END"


@dataclass
class Node:
    id: int
    label: str
    kind: str  # start, end, user, action, slot, loop, checkpoint
    stories: set[str] = field(default_factory=set)


@dataclass
class StoryGraph:
    nodes: dict[int, Node] = field(default_factory=dict)
    edges: set[tuple[int, int]] = field(default_factory=set)
    rule_edges: set[tuple[int, int]] = field(default_factory=set)
    paths: dict[str, list[int]] = field(default_factory=dict)  # story/rule name -> its nodes

    def successors(self, node: int) -> list[int]:
        return sorted(b for a, b in self.edges | self.rule_edges if a == node)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [
                {"id": n.id, "label": n.label, "kind": n.kind, "stories": sorted(n.stories)}
                for n in self.nodes.values()
            ],
            "edges": sorted(self.edges),
            "rule_edges": sorted(self.rule_edges),
            "paths": self.paths,
        }


def step_label(step: Step) -> tuple[str, str]:
    """(kind, label) of one step as the graph shows it."""
    if isinstance(step, UserStep):
        entities = ", ".join(
            e.entity if e.value is None else f"{e.entity}={e.value}" for e in step.entities
        )
        name = step.intent or f'"{step.text}"'
        return "user", f"{name}{{{entities}}}" if entities else name
    if isinstance(step, ActionStep):
        return "action", step.action or f'bot: "{step.bot_text}"'
    if isinstance(step, SlotStep):
        return "slot", "slot " + ", ".join(f"{k}={v!r}" for k, v in step.slots)
    if isinstance(step, ActiveLoopStep):
        return "loop", f"active_loop: {step.name}" if step.name else "loop ends"
    if isinstance(step, CheckpointStep):
        return "checkpoint", f"checkpoint: {step.name}"
    raise TypeError(f"no label for {step!r}")  # OrStep is expanded by the builder


class _Builder:
    def __init__(self) -> None:
        self.graph = StoryGraph()
        self._by_key: dict[tuple[Any, ...], int] = {}
        self.start = self._node(("start",), START, "start")
        self.end = self._node(("end",), END, "end")

    def _node(self, key: tuple[Any, ...], label: str, kind: str) -> int:
        found = self._by_key.get(key)
        if found is not None:
            return found
        node = Node(len(self.graph.nodes), label, kind)
        self.graph.nodes[node.id] = node
        self._by_key[key] = node.id
        return node.id

    def add(self, name: str, steps: Iterable[Step], is_rule: bool, prefix: tuple[Any, ...]) -> None:
        edges = self.graph.rule_edges if is_rule else self.graph.edges
        steps = list(steps)
        starts_at_checkpoint = bool(steps) and isinstance(steps[0], CheckpointStep)
        current: list[int] = [] if starts_at_checkpoint else [self.start]
        path: list[int] = [] if starts_at_checkpoint else [self.start]
        for step in steps:
            alternatives = step.alternatives if isinstance(step, OrStep) else (step,)
            reached: list[int] = []
            for alternative in alternatives:
                kind, label = step_label(alternative)
                if kind == "checkpoint":  # joins stories by name, whatever came before
                    node = self._node(("checkpoint", label), label, kind)
                else:
                    node = self._node((*prefix, tuple(current), kind, label), label, kind)
                for before in current:
                    edges.add((before, node))
                self.graph.nodes[node].stories.add(name)
                reached.append(node)
            current = reached
            path.extend(reached)
        last = self.graph.nodes[current[-1]] if current else None
        if last is None or last.kind != "checkpoint":
            for before in current:
                edges.add((before, self.end))
            path.append(self.end)
        self.graph.paths[name] = path


def build_graph(stories: Iterable[Story], rules: Iterable[Rule] = ()) -> StoryGraph:
    builder = _Builder()
    for story in stories:
        builder.add(story.name, story.steps, is_rule=False, prefix=("story",))
    for rule in rules:
        builder.add(f"rule: {rule.name}", (*rule.condition, *rule.steps), True, ("rule",))
    return builder.graph


def layers(graph: StoryGraph) -> dict[int, int]:
    """Each node's column: its longest distance from START (END last); cycles through
    checkpoints are cut where a node is met again."""
    depth = {graph.nodes[0].id: 0}
    order = [0]
    seen = {0}
    successors: dict[int, list[int]] = {}
    for a, b in graph.edges | graph.rule_edges:
        successors.setdefault(a, []).append(b)
    changed = True
    rounds = 0
    while changed and rounds < len(graph.nodes) + 1:
        changed = False
        rounds += 1
        for node in list(order):
            for nxt in successors.get(node, []):
                candidate = depth[node] + 1
                if nxt not in depth or (candidate > depth[nxt] and candidate <= len(graph.nodes)):
                    depth[nxt] = candidate
                    changed = True
                if nxt not in seen:
                    seen.add(nxt)
                    order.append(nxt)
    last = max(depth.values(), default=0) + 1
    for node in graph.nodes:
        depth.setdefault(node, 1)
    end = next(n.id for n in graph.nodes.values() if n.kind == "end")
    depth[end] = last
    return depth
