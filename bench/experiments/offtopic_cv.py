"""Off-topic messages against small real projects (experiment; the benchmark section follows).

Each Rasa project of ../shared/examples (its own pipeline) and SNIPS, 5-fold cross-validated:
in-domain messages of the held-out fold, and HWU64 test messages of scenarios none of these
projects covers (questions, transport, lists, smart home, ...), labelled out of scope. Prints
AUROC, in-domain fallback and off-topic recall at 0.3 / 0.7 per project.

`python bench/experiments/offtopic_cv.py [--projects moodbot snips ...]`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nlu_oos_bench import off_topic_run  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", nargs="*", default=None)
    args = parser.parse_args()
    from bench.nlu_oos_bench import OFF_TOPIC_PROJECTS

    for name in args.projects or OFF_TOPIC_PROJECTS:
        row = off_topic_run(name)
        print(json.dumps({k: v for k, v in row.items() if k != "curve"}), flush=True)
