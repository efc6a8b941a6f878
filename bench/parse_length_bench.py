"""Parse time per word against message length: it must stay flat (every NLU step linear).

`make bench-nlu` runs it after the accuracy benchmark -> bench/results/parse_length.json. The
pipeline is the default one plus the regex and built-in entity extractors (the steps that scan
the text with patterns), trained on the starter help-desk assistant's NLU data. Messages are
random words of that data (with numbers, an e-mail address and a date among them), and also
text without spaces and punctuation only, the shapes that make regular expressions backtrack.
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LENGTHS = (10, 50, 200, 500, 1000, 2000)  # words
REPEATS = 5  # the median of these is reported


def _pipeline() -> Any:
    from parley.cli.init import template_dir
    from parley.nlu.pipeline import Pipeline
    from parley.nlu.registry import DEFAULT_PIPELINE
    from parley.project.config import ComponentConfig, ProjectConfig
    from parley.project.loader import load_nlu_data

    components = [
        *DEFAULT_PIPELINE,
        ComponentConfig("RegexEntityExtractor"),
        ComponentConfig("BuiltinEntityExtractor"),
    ]
    data = load_nlu_data([template_dir() / "data" / "nlu.yml"])
    return Pipeline.train(ProjectConfig(pipeline=tuple(components)), data), data


def _texts(words: list[str], length: int, rng: random.Random) -> dict[str, str]:
    extra = ["42", "jane.doe@example.com", "tomorrow", "5pm", "3,000", "$20"]
    pool = words + extra
    return {
        "words": " ".join(rng.choice(pool) for _ in range(length)),
        "no_spaces": "a" * (5 * length),
        "punctuation": "!?." * length,
        "digits": "1-" * length,
    }


def _median_seconds(pipeline: Any, text: str) -> float:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        pipeline.parse(text)
        timings.append(time.perf_counter() - started)
    return sorted(timings)[len(timings) // 2]


def main() -> None:
    pipeline, data = _pipeline()
    words = sorted({w for example in data.examples for w in example.text.split()})
    rng = random.Random(0)
    rows: list[dict[str, Any]] = []
    for length in LENGTHS:
        for shape, text in _texts(words, length, rng).items():
            pipeline.parse(text)  # warm-up (caches, lazy imports)
            seconds = _median_seconds(pipeline, text)
            row = {
                "shape": shape,
                "words": length,
                "chars": len(text),
                "parse_ms": round(seconds * 1000, 3),
                "us_per_word": round(seconds / length * 1e6, 2),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    growth = {}
    for shape in sorted({r["shape"] for r in rows}):
        per_word = {r["words"]: r["us_per_word"] for r in rows if r["shape"] == shape}
        growth[shape] = round(per_word[LENGTHS[-1]] / per_word[200], 2)
    report = {
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "note": "load_average_1m_after > cpus means other work shared the CPUs (timings"
            " inflated)",
        },
        "target": "time per word flat from 10 to 2,000 words: us_per_word at 2,000 words <= 1.5x"
        " that at 200 words for every shape (it falls from 10 words on: fixed costs)",
        "us_per_word_2000_over_200": growth,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parse_length.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
