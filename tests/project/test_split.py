"""`parley data split nlu`: stratified, seeded, nothing lost."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from parley.cli.main import app
from parley.project.loader import load_nlu_data
from parley.project.nlu_data import NLUData, NLUExample
from parley.project.split import split_nlu

runner = CliRunner()


def _data() -> NLUData:
    examples = [NLUExample(f"greet {i}", "greet") for i in range(10)]
    examples += [NLUExample(f"bye {i}", "goodbye") for i in range(5)]
    examples += [NLUExample("lonely", "rare"), NLUExample("a", "pair"), NLUExample("b", "pair")]
    return NLUData(tuple(examples), {"hiya": "hi"})


def test_each_intent_is_split_at_the_fraction_and_nothing_is_lost() -> None:
    split = split_nlu(_data(), 0.8, seed=1)
    train = [e.intent for e in split.train.examples]
    test = [e.intent for e in split.test.examples]
    assert train.count("greet") == 8 and test.count("greet") == 2
    assert train.count("goodbye") == 4 and test.count("goodbye") == 1
    assert train.count("rare") == 1 and "rare" not in test  # one example: training only
    assert train.count("pair") == 1 and test.count("pair") == 1
    assert sorted(e.text for e in split.train.examples + split.test.examples) == sorted(
        e.text for e in _data().examples
    )
    assert split.train.synonyms == split.test.synonyms == {"hiya": "hi"}


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    first, again = split_nlu(_data(), 0.7, seed=3), split_nlu(_data(), 0.7, seed=3)
    assert first == again
    assert split_nlu(_data(), 0.7, seed=4).test != first.test


def test_the_command_writes_both_files(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
        + "".join(f"    - hello {i}\n" for i in range(10))
        + "- intent: city\n  examples: |\n"
        + "".join(f"    - to [Paris](city) {i}\n" for i in range(5))
    )
    out = tmp_path / "split"
    result = runner.invoke(
        app,
        [
            "data",
            "split",
            "nlu",
            "--nlu",
            str(nlu),
            "--out",
            str(out),
            "--training-fraction",
            "0.6",
        ],
    )
    assert result.exit_code == 0, result.output
    train = load_nlu_data([out / "training_data.yml"])
    test = load_nlu_data([out / "test_data.yml"])
    assert len(train.examples) == 9 and len(test.examples) == 6
    assert all(e.entities[0].value == "Paris" for e in test.examples if e.intent == "city")
    bad = runner.invoke(
        app, ["data", "split", "nlu", "--nlu", str(nlu), "--training-fraction", "1.5"]
    )
    assert bad.exit_code != 0 and "between 0 and 1" in bad.output
