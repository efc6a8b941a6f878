"""The story graph drawn: a self-contained interactive HTML page (inline SVG, no CDN) and a PNG.

In the page a story or rule picked from the list lights up its path; hovering a step lists the
stories through it; the wheel zooms and dragging pans.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from parley.visualize.graph import StoryGraph, layers

COLUMN, ROW, BOX_HEIGHT = 230, 64, 34
COLOURS = {
    "start": "#4a4a4a",
    "end": "#4a4a4a",
    "user": "#2b6cb0",
    "action": "#2f855a",
    "slot": "#b7791f",
    "loop": "#6b46c1",
    "checkpoint": "#c53030",
}


@dataclass(frozen=True)
class Placed:
    x: float
    y: float
    width: float


def place(graph: StoryGraph) -> dict[int, Placed]:
    """Columns by depth; rows ordered by where each node's predecessors sit."""
    depth = layers(graph)
    columns: dict[int, list[int]] = {}
    for node, column in sorted(depth.items(), key=lambda item: (item[1], item[0])):
        columns.setdefault(column, []).append(node)
    row_of: dict[int, float] = {}
    predecessors: dict[int, list[int]] = {}
    for a, b in graph.edges | graph.rule_edges:
        predecessors.setdefault(b, []).append(a)
    for column in sorted(columns):
        nodes = columns[column]
        nodes.sort(
            key=lambda n: (
                sum(row_of.get(p, 0) for p in predecessors.get(n, []))
                / max(1, len(predecessors.get(n, []))),
                n,
            )
        )
        for row, node in enumerate(nodes):
            row_of[node] = row
    placed: dict[int, Placed] = {}
    for node, column in depth.items():
        label = graph.nodes[node].label
        width = min(210.0, max(56.0, 20 + 7.2 * len(label)))
        placed[node] = Placed(40 + column * COLUMN, 40 + row_of[node] * ROW, width)
    return placed


def _edge_path(a: Placed, b: Placed) -> str:
    x1, y1 = a.x + a.width, a.y + BOX_HEIGHT / 2
    x2, y2 = b.x, b.y + BOX_HEIGHT / 2
    if x2 <= x1:  # a checkpoint leading back: loop around below
        low = max(y1, y2) + ROW * 0.8
        return f"M{x1},{y1} C{x1 + 60},{low} {x2 - 60},{low} {x2},{y2}"
    middle = (x1 + x2) / 2
    return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"


def _short(label: str, width: float) -> str:
    room = int((width - 20) / 7.2)
    return label if len(label) <= room else label[: max(1, room - 1)] + "…"


def render_html(graph: StoryGraph, title: str = "Stories and rules") -> str:
    placed = place(graph)
    width = max((p.x + p.width for p in placed.values()), default=200) + 80
    height = max((p.y for p in placed.values()), default=0) + BOX_HEIGHT + 120
    edges = []
    for a, b in sorted(graph.edges):
        edges.append(
            f'<path class="edge" data-from="{a}" data-to="{b}" d="{_edge_path(placed[a], placed[b])}"/>'
        )
    for a, b in sorted(graph.rule_edges):
        edges.append(
            f'<path class="edge rule" data-from="{a}" data-to="{b}" '
            f'd="{_edge_path(placed[a], placed[b])}"/>'
        )
    boxes = []
    for node in graph.nodes.values():
        p = placed[node.id]
        tip = html.escape(f"{node.label}\n" + "\n".join(sorted(node.stories)))
        boxes.append(
            f'<g class="node {node.kind}" data-id="{node.id}">'
            f"<title>{tip}</title>"
            f'<rect x="{p.x}" y="{p.y}" width="{p.width}" height="{BOX_HEIGHT}" rx="8" '
            f'fill="{COLOURS[node.kind]}"/>'
            f'<text x="{p.x + p.width / 2}" y="{p.y + BOX_HEIGHT / 2 + 4}">'
            f"{html.escape(_short(node.label, p.width))}</text></g>"
        )
    items = "".join(
        f'<li data-story="{html.escape(name)}">{html.escape(name)}</li>'
        for name in sorted(graph.paths)
    )
    paths = json.dumps(graph.paths)
    return _PAGE.format(
        title=html.escape(title),
        width=width,
        height=height,
        edges="\n".join(edges),
        boxes="\n".join(boxes),
        items=items,
        paths=paths,
        count=len(graph.paths),
        legend="".join(
            f'<span style="background:{COLOURS[kind]}">{name}</span>'
            for kind, name in (
                ("user", "intent"),
                ("action", "action"),
                ("slot", "slot"),
                ("loop", "loop"),
                ("checkpoint", "checkpoint"),
            )
        ),
    )


def render_png(graph: StoryGraph, out: Path) -> None:
    """The same drawing as a PNG (needs matplotlib: `pip install 'parley[plots]'`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    placed = place(graph)
    width = max(p.x + p.width for p in placed.values()) + 80
    height = max(p.y for p in placed.values()) + BOX_HEIGHT + 80
    figure = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for style, edge_set in (("-", graph.edges), ("--", graph.rule_edges)):
        for a, b in edge_set:
            pa, pb = placed[a], placed[b]
            axes.annotate(
                "",
                xy=(pb.x, pb.y + BOX_HEIGHT / 2),
                xytext=(pa.x + pa.width, pa.y + BOX_HEIGHT / 2),
                arrowprops={
                    "arrowstyle": "->",
                    "color": "#888",
                    "linestyle": style,
                    "connectionstyle": "arc3,rad=0.05",
                },
            )
    for node in graph.nodes.values():
        p = placed[node.id]
        axes.add_patch(
            FancyBboxPatch(
                (p.x, p.y),
                p.width,
                BOX_HEIGHT,
                boxstyle="round,pad=0,rounding_size=8",
                color=COLOURS[node.kind],
            )
        )
        axes.text(
            p.x + p.width / 2,
            p.y + BOX_HEIGHT / 2,
            _short(node.label, p.width),
            ha="center",
            va="center",
            color="white",
            fontsize=9,
        )
    figure.savefig(out)
    plt.close(figure)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ margin: 0; font: 14px system-ui, sans-serif; display: flex; height: 100vh; }}
aside {{ width: 260px; overflow: auto; border-right: 1px solid #ddd; padding: 8px; }}
aside h1 {{ font-size: 16px; margin: 4px 0 8px; }}
aside li {{ cursor: pointer; padding: 2px 4px; list-style: none; }}
aside li.on {{ background: #fde68a; }}
aside ul {{ padding: 0; margin: 0; }}
main {{ flex: 1; overflow: hidden; cursor: grab; }}
svg {{ width: 100%; height: 100%; }}
.edge {{ fill: none; stroke: #9aa; stroke-width: 1.5; marker-end: url(#arrow); }}
.edge.rule {{ stroke-dasharray: 6 4; }}
.node text {{ fill: #fff; font-size: 12px; text-anchor: middle; pointer-events: none; }}
.dim .node, .dim .edge {{ opacity: 0.15; }}
.dim .node.lit, .dim .edge.lit {{ opacity: 1; }}
.edge.lit {{ stroke: #d97706; stroke-width: 3; }}
.legend span {{ display: inline-block; padding: 1px 6px; margin: 2px; color: #fff;
  border-radius: 6px; font-size: 12px; }}
</style></head>
<body>
<aside><h1>{title}</h1>
<p class="legend">{legend} dashed: rules</p>
<p>{count} paths; pick one to follow it.</p><ul id="stories">{items}</ul></aside>
<main><svg id="graph" viewBox="0 0 {width} {height}" data-width="{width}" data-height="{height}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#9aa"/></marker></defs>
<g id="scene">
{edges}
{boxes}
</g></svg></main>
<script>
const paths = {paths};
const svg = document.getElementById("graph");
let view = [0, 0, +svg.dataset.width, +svg.dataset.height];
const apply = () => svg.setAttribute("viewBox", view.join(" "));
document.querySelectorAll("#stories li").forEach((li) => li.addEventListener("click", () => {{
  const on = !li.classList.contains("on");
  document.querySelectorAll("#stories li").forEach((x) => x.classList.remove("on"));
  document.querySelectorAll(".lit").forEach((x) => x.classList.remove("lit"));
  svg.classList.toggle("dim", on);
  if (!on) return;
  li.classList.add("on");
  const ids = paths[li.dataset.story];
  ids.forEach((id) => document.querySelector(`.node[data-id="${{id}}"]`).classList.add("lit"));
  for (let i = 1; i < ids.length; i++) {{
    document.querySelectorAll(`.edge[data-to="${{ids[i]}}"]`).forEach((e) => {{
      if (ids.includes(+e.dataset.from)) e.classList.add("lit");
    }});
  }}
}}));
svg.addEventListener("wheel", (event) => {{
  event.preventDefault();
  const k = event.deltaY > 0 ? 1.15 : 1 / 1.15;
  const r = svg.getBoundingClientRect();
  const px = view[0] + (event.clientX - r.left) / r.width * view[2];
  const py = view[1] + (event.clientY - r.top) / r.height * view[3];
  view = [px - (px - view[0]) * k, py - (py - view[1]) * k, view[2] * k, view[3] * k];
  apply();
}});
let drag = null;
svg.addEventListener("mousedown", (e) => {{ drag = [e.clientX, e.clientY, view[0], view[1]]; }});
window.addEventListener("mouseup", () => {{ drag = null; }});
window.addEventListener("mousemove", (e) => {{
  if (!drag) return;
  const r = svg.getBoundingClientRect();
  view[0] = drag[2] - (e.clientX - drag[0]) / r.width * view[2];
  view[1] = drag[3] - (e.clientY - drag[1]) / r.height * view[3];
  apply();
}});
</script></body></html>
"""
