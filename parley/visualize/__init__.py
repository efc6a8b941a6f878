"""`parley visualize`: the story and rule graph as an interactive HTML page and a PNG."""

from parley.visualize.graph import StoryGraph, build_graph
from parley.visualize.render import render_html, render_png

__all__ = ["StoryGraph", "build_graph", "render_html", "render_png"]
