"""Step 3 of the static-vectors experiment: late fusion. A ridge classifier over the static
sentence vector and its random Fourier features (closed form, fast) adds alpha x its scores to a
LinearSVC's scores (sparse alone, or sparse + static). 5-fold CV on the train split; scores are
computed once per fold and the fusion weights are swept afterwards.

    python bench/experiments/fusion_cv.py --svc '[{"table": ""}, {"table": "states:6,0", ...}]' \
        --ridge '[{"table": "states:6,0", "rff": 1024, "gamma": 1, "lam": 1}]'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.svm import LinearSVC
from static_vectors_cv import ROOT, Experiment, Setting, combine


def svc_scores(exp: Experiment, s: Setting, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    if k < 0:
        tr_ids, te_ids, y_tr, y_te = exp.ids, exp.test_ids, exp.y, exp.y_test
    else:
        tr, va = exp.folds[k]
        tr_ids = [exp.ids[i] for i in tr]
        te_ids = [exp.ids[i] for i in va]
        y_tr, y_te = exp.y[tr], exp.y[va]
    xs_tr, xs_te = exp.sparse_fold(k)
    d_tr = exp.dense(s, tr_ids, tr_ids) if s.table else None
    d_te = exp.dense(s, te_ids, tr_ids) if s.table else None
    started = time.perf_counter()
    model = LinearSVC(C=s.c, random_state=0, tol=1e-3, max_iter=2000)
    model.fit(combine(xs_tr, d_tr, s.weight), y_tr)
    seconds = time.perf_counter() - started
    return model.decision_function(combine(xs_te, d_te, s.weight)), y_te, seconds


def ridge_scores(exp: Experiment, s: Setting, lam: float, k: int) -> tuple[np.ndarray, float]:
    if k < 0:
        tr_ids, te_ids, y_tr = exp.ids, exp.test_ids, exp.y
    else:
        tr, va = exp.folds[k]
        tr_ids = [exp.ids[i] for i in tr]
        te_ids = [exp.ids[i] for i in va]
        y_tr = exp.y[tr]
    started = time.perf_counter()
    x_tr = exp.dense(s, tr_ids, tr_ids).astype(np.float64)
    x_tr = np.hstack([x_tr, np.ones((len(x_tr), 1))])
    targets = -np.ones((len(y_tr), int(exp.y.max()) + 1))
    targets[np.arange(len(y_tr)), y_tr] = 1.0
    gram = x_tr.T @ x_tr
    gram[np.diag_indices_from(gram)] += lam
    w = np.linalg.solve(gram, x_tr.T @ targets)
    seconds = time.perf_counter() - started
    x_te = exp.dense(s, te_ids, tr_ids).astype(np.float64)
    x_te = np.hstack([x_te, np.ones((len(x_te), 1))])
    return x_te @ w, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=ROOT / "build" / "static_vectors")
    parser.add_argument("--dataset", default="hwu64")
    parser.add_argument("--svc", required=True)
    parser.add_argument("--ridge", required=True)
    parser.add_argument("--alphas", default="[0,0.25,0.5,0.75,1,1.5,2,3]")
    parser.add_argument("--test", action="store_true")
    parser.add_argument("--fold-seed", type=int, default=0)
    args = parser.parse_args()
    exp = Experiment(args.folder, args.dataset, args.fold_seed)
    folds = [-1] if args.test else list(range(5))
    alphas = json.loads(args.alphas)
    svcs = [Setting(**kw) for kw in json.loads(args.svc)]
    ridges = [(Setting(**kw), float(kw.get("lam", 1.0)), kw) for kw in json.loads(args.ridge)]
    svc_out = {i: [svc_scores(exp, s, k) for k in folds] for i, s in enumerate(svcs)}
    for i, s in enumerate(svcs):
        acc = np.mean([np.mean(sc.argmax(1) == y) for sc, y, _ in svc_out[i]])
        print(
            json.dumps(
                {
                    "svc": s.key(),
                    "acc": round(float(acc), 4),
                    "fit_s": round(float(np.mean([t for *_, t in svc_out[i]])), 2),
                }
            ),
            flush=True,
        )
    for rs, lam, kw in ridges:
        rr = [ridge_scores(exp, rs, lam, k) for k in folds]
        alone = np.mean(
            [np.mean(r.argmax(1) == y) for (r, _), (_, y, _) in zip(rr, svc_out[0], strict=True)]
        )
        for i, s in enumerate(svcs):
            accs = {}
            for a in alphas:
                accs[a] = round(
                    float(
                        np.mean(
                            [
                                np.mean((sc + a * r).argmax(1) == y)
                                for (sc, y, _), (r, _) in zip(svc_out[i], rr, strict=True)
                            ]
                        )
                    ),
                    4,
                )
            row: dict[str, Any] = {
                "dataset": args.dataset,
                "fold_seed": args.fold_seed,
                "test": args.test,
                "svc": {k: v for k, v in s.key().items() if k in ("table", "dims", "weight", "c")},
                "ridge": kw,
                "ridge_alone": round(float(alone), 4),
                "ridge_fit_s": round(float(np.mean([t for _, t in rr])), 2),
                "fused": accs,
            }
            print(json.dumps(row), flush=True)
            with (args.folder / "fusion.jsonl").open("a") as stream:
                stream.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.exit(main())
