"""`parley visualize`: every story path, checkpoints joined, `or` branches, in a real browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.main import app
from parley.project.loader import read_rules_and_stories
from parley.visualize import build_graph

runner = CliRunner()
ARTIFACTS = Path(os.environ.get("PARLEY_TEST_ARTIFACTS", "build/test-artifacts"))

STORIES = """version: "3.1"
stories:
- story: greet then ask
  steps:
  - intent: greet
  - action: utter_greet
  - checkpoint: greeted
- story: after greeting, ask hours or opening
  steps:
  - checkpoint: greeted
  - or:
    - intent: ask_hours
    - intent: ask_opening
  - action: utter_hours
- story: after greeting, leave
  steps:
  - checkpoint: greeted
  - intent: goodbye
  - action: utter_goodbye
- story: greet then bye directly
  steps:
  - intent: greet
  - action: utter_greet
  - intent: goodbye
  - action: utter_goodbye
rules:
- rule: say hi back
  steps:
  - intent: hi
  - action: utter_greet
"""


def _graph(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "stories.yml"
    data.write_text(STORIES)
    stories, rules = read_rules_and_stories([data])
    return build_graph(stories, rules)


def test_shared_prefixes_merge_checkpoints_join_and_or_branches_rejoin(tmp_path: Path) -> None:
    graph = _graph(tmp_path)
    labels = [n.label for n in graph.nodes.values()]
    assert labels.count("checkpoint: greeted") == 1
    assert labels.count("greet") == 1  # two stories start alike: one node
    hours = next(n.id for n in graph.nodes.values() if n.label == "utter_hours")
    alternatives = {n.id for n in graph.nodes.values() if n.label in ("ask_hours", "ask_opening")}
    assert {a for a, b in graph.edges if b == hours} == alternatives
    checkpoint = next(n.id for n in graph.nodes.values() if n.kind == "checkpoint")
    after = {graph.nodes[b].label for a, b in graph.edges if a == checkpoint}
    assert after == {"ask_hours", "ask_opening", "goodbye"}  # both stories that start there
    assert len(graph.paths) == 5 and "rule: say hi back" in graph.paths
    assert graph.rule_edges and not (graph.rule_edges & graph.edges)
    assert (0, checkpoint) not in graph.edges  # reached only through the story ending there


@pytest.mark.integration
def test_the_page_shows_every_path_in_headless_chromium(tmp_path: Path) -> None:
    from tests.integration.test_webchat_browser import CHROMEDRIVER, CHROMIUM, FLAGS, _need_browser

    _need_browser()
    (tmp_path / "stories.yml").write_text(STORIES)
    out = tmp_path / "graph.html"
    result = runner.invoke(
        app, ["visualize", "--stories", str(tmp_path / "stories.yml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".png").stat().st_size > 1000

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1600,900")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.get(out.resolve().as_uri())
        items = driver.find_elements(By.CSS_SELECTOR, "#stories li")
        names = sorted(i.get_attribute("data-story") for i in items)
        assert names == sorted(_graph_paths(tmp_path))
        nodes = driver.find_elements(By.CSS_SELECTOR, "g.node")
        assert {
            n.find_element(By.TAG_NAME, "title").get_attribute("textContent").split("\n")[0]
            for n in nodes
        } >= {
            "greet",
            "utter_greet",
            "checkpoint: greeted",
            "ask_hours",
            "ask_opening",
            "utter_hours",
            "goodbye",
            "utter_goodbye",
        }
        pick = next(i for i in items if i.get_attribute("data-story") == "after greeting, leave")
        pick.click()
        lit = driver.find_elements(By.CSS_SELECTOR, "g.node.lit")
        assert len(lit) == 4  # it continues a story: checkpoint, goodbye, utter_goodbye, END
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "visualize.png"))
        shutil.copy(out, ARTIFACTS / "visualize.html")
    finally:
        driver.quit()


def _graph_paths(folder: Path) -> list[str]:
    stories, rules = read_rules_and_stories([folder / "stories.yml"])
    return list(build_graph(stories, rules).paths)
