"""Step 2 of the static-vectors experiment (docs/nlu.md): the default sparse features plus a
static sentence vector (weighted mean of distilled WordPiece vectors, PCA-reduced), LinearSVC.
5-fold CV on the train split; `--test` also fits on train and scores the test split (only for
settings chosen by CV). Reads distill_tokens.py's output; rows go to stdout and results.jsonl.

    python bench/experiments/static_vectors_cv.py --grid '[{"table": ""},
        {"table": "states:6,0", "dims": 256, "weight": 1.5, "c": 0.5}]'

`table` is `<states|means>:<layers>` (several layers: each L2-normalised, concatenated before
PCA); `""` is the sparse baseline. `--timing` measures sizes and costs of the first setting.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from parley.nlu.encoder_graph import model_folder
from parley.nlu.features import NgramChannel, SparseFeaturizer
from parley.nlu.tokenizer import tokenize
from parley.project.loader import load_nlu_data

ROOT = Path(__file__).resolve().parents[2]
DATASETS = next(
    (p / "shared" / "datasets" for p in ROOT.parents if (p / "shared" / "datasets").is_dir()),
    ROOT.parent / "shared" / "datasets",
)
VOCAB = 30522
FIRST_WORD = 1996  # BERT uncased vocabulary: ids below are [unused], special and single chars


def load(dataset: str, split: str) -> tuple[list[str], list[str]]:
    data = load_nlu_data([DATASETS / dataset / f"{split}.yml"])
    return [e.text for e in data.examples], [e.base_intent for e in data.examples]


def wordpiece_ids(texts: list[str]) -> list[np.ndarray]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_folder() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return [np.array(tok.encode(t, add_special_tokens=False).ids, np.int64) for t in texts]


def base_table(folder: Path, variant: str) -> np.ndarray:
    """vocab x d float32 before PCA."""
    source, _, layers = variant.partition(":")
    arr = np.load(folder / f"{source}.npy", mmap_mode="r")
    picked = [int(x) for x in layers.split(",")]
    if len(picked) == 1:
        return np.asarray(arr[:, picked[0]], np.float32)
    blocks = []
    for n in picked:
        block = np.asarray(arr[:, n], np.float32)
        blocks.append(block / np.linalg.norm(block, axis=1, keepdims=True).clip(1e-9))
    return np.concatenate(blocks, axis=1)


def pca(table: np.ndarray, dims: int) -> np.ndarray:
    if dims <= 0 or dims >= table.shape[1]:
        return table - table.mean(axis=0)
    centred = table - table.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[FIRST_WORD:], full_matrices=False)
    return np.asarray(centred @ vt[:dims].T, np.float32)


def rank_weights(vocab: int, a: float) -> np.ndarray:
    """SIF weight a / (a + p) with p from Zipf's law over the vocabulary order (model2vec)."""
    rank = np.maximum(np.arange(vocab) - FIRST_WORD + 2, 1).astype(np.float64)
    p = (1.0 / rank) / np.sum(1.0 / rank)
    return (a / (a + p)).astype(np.float32)


def idf_weights(vocab: int, docs: list[np.ndarray]) -> np.ndarray:
    df = np.zeros(vocab)
    for ids in docs:
        df[np.unique(ids)] += 1
    return np.log((1 + len(docs)) / (1 + df)).astype(np.float32) + 1.0


def sentence_vectors(
    table: np.ndarray, weights: np.ndarray, docs: list[np.ndarray], pool: str = "mean"
) -> np.ndarray:
    width = table.shape[1]
    out = np.zeros((len(docs), width * (2 if pool == "meanmax" else 1)), np.float32)
    for i, ids in enumerate(docs):
        if len(ids):
            v = weights[ids] @ table[ids]
            out[i, :width] = v / max(float(np.linalg.norm(v)), 1e-9)
            if pool == "meanmax":
                m = table[ids].max(axis=0)
                out[i, width:] = m / max(float(np.linalg.norm(m)), 1e-9)
    return out


@lru_cache(maxsize=4)
def _fourier_basis(dims: int, n: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    projection = rng.normal(0.0, np.sqrt(2 * gamma), (dims, n)).astype(np.float32)
    return projection, rng.uniform(0, 2 * np.pi, n).astype(np.float32)


def random_fourier(vectors: np.ndarray, n: int, gamma: float) -> np.ndarray:
    """The vectors followed by n random Fourier features of the RBF kernel exp(-gamma |x-y|^2)."""
    projection, shift = _fourier_basis(vectors.shape[1], n, gamma)
    waves = np.sqrt(2 / n) * np.cos(vectors @ projection + shift)
    return np.hstack([vectors, waves]).astype(np.float32)


def sparse_features(train: list[str], other: list[str]) -> tuple[Any, Any]:
    feat = SparseFeaturizer([NgramChannel("word", 1, 2), NgramChannel("char_wb", 2, 5)], [], True)
    x_train = feat.train(train, [tokenize(t) for t in train])
    x_other = feat.transform(other, [tokenize(t) for t in other])
    return x_train, x_other


def accuracy(x_tr: Any, y_tr: np.ndarray, x_te: Any, y_te: np.ndarray, c: float) -> float:
    model = LinearSVC(C=c, random_state=0, tol=1e-3, max_iter=2000)
    model.fit(x_tr, y_tr)
    return float(np.mean(model.predict(x_te) == y_te))


def combine(xs: Any, dense: np.ndarray | None, weight: float) -> Any:
    if dense is None:
        return xs
    if xs is None:
        return dense
    return sparse.hstack([xs, sparse.csr_matrix(dense * weight)], format="csr")


class Setting:
    def __init__(self, **kw: Any) -> None:
        self.table: str = kw.get("table", "")  # "" = baseline (sparse only)
        self.dims: int = int(kw.get("dims", 256))
        self.weighting: str = kw.get("weighting", "none")  # none | rank:A | idf
        self.normalise: bool = bool(kw.get("normalise", False))
        self.weight: float = float(kw.get("weight", 1.0))
        self.c: float = float(kw.get("c", 1.0))
        self.sparse: bool = bool(kw.get("sparse", True))
        self.pool: str = kw.get("pool", "mean")
        self.dtype: str = kw.get("dtype", "float32")
        self.rff: int = int(kw.get("rff", 0))  # random Fourier features of the vector (RBF)
        self.gamma: float = float(kw.get("gamma", 1.0))

    def key(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Experiment:
    def __init__(self, folder: Path, dataset: str, fold_seed: int = 0) -> None:
        self.folder = folder
        self.texts, labels = load(dataset, "train")
        self.test_texts, test_labels = load(dataset, "test")
        names = sorted(set(labels))
        self.y = np.array([names.index(n) for n in labels])
        self.y_test = np.array([names.index(n) for n in test_labels])
        self.ids = wordpiece_ids(self.texts)
        self.test_ids = wordpiece_ids(self.test_texts)
        folds = StratifiedKFold(5, shuffle=True, random_state=fold_seed)
        self.folds = list(folds.split(self.texts, self.y))
        self._sparse: dict[int, tuple[Any, Any]] = {}
        self._tables: dict[tuple[str, int, bool, str], np.ndarray] = {}

    def sparse_fold(self, k: int) -> tuple[Any, Any]:
        if k not in self._sparse:
            if k < 0:
                self._sparse[k] = sparse_features(self.texts, self.test_texts)
            else:
                tr, va = self.folds[k]
                self._sparse[k] = sparse_features(
                    [self.texts[i] for i in tr], [self.texts[i] for i in va]
                )
        return self._sparse[k]

    def table(self, s: Setting) -> np.ndarray:
        key = (s.table, s.dims, s.normalise, s.dtype)
        if key not in self._tables:
            t = pca(base_table(self.folder, s.table), s.dims)
            if s.normalise:
                t = t / np.linalg.norm(t, axis=1, keepdims=True).clip(1e-9)
            if s.dtype == "float16":
                t = t.astype(np.float16).astype(np.float32)
            elif s.dtype == "int8":  # one scale per token row
                scale = np.abs(t).max(axis=1, keepdims=True).clip(1e-9) / 127.0
                t = (np.round(t / scale).astype(np.int8) * scale).astype(np.float32)
            self._tables[key] = t
        return self._tables[key]

    def weights(self, s: Setting, docs: list[np.ndarray]) -> np.ndarray:
        if s.weighting == "none":
            return np.ones(VOCAB, np.float32)
        if s.weighting.startswith("rank:"):
            return rank_weights(VOCAB, float(s.weighting[5:]))
        if s.weighting == "idf":
            return idf_weights(VOCAB, docs)
        raise ValueError(s.weighting)

    def dense(self, s: Setting, docs: list[np.ndarray], train: list[np.ndarray]) -> np.ndarray:
        """Static sentence vectors of `docs` (weights from `train` when they are learnt)."""
        vectors = sentence_vectors(self.table(s), self.weights(s, train), docs, s.pool)
        return random_fourier(vectors, s.rff, s.gamma) if s.rff else vectors

    def run(self, s: Setting, k: int) -> float:
        """Accuracy on fold k's validation part (k = -1: train -> test)."""
        if k < 0:
            tr_ids, te_ids, y_tr, y_te = self.ids, self.test_ids, self.y, self.y_test
        else:
            tr, va = self.folds[k]
            tr_ids = [self.ids[i] for i in tr]
            te_ids = [self.ids[i] for i in va]
            y_tr, y_te = self.y[tr], self.y[va]
        xs_tr, xs_te = self.sparse_fold(k) if s.sparse else (None, None)
        d_tr = self.dense(s, tr_ids, tr_ids) if s.table else None
        d_te = self.dense(s, te_ids, tr_ids) if s.table else None
        return accuracy(
            combine(xs_tr, d_tr, s.weight), y_tr, combine(xs_te, d_te, s.weight), y_te, s.c
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=ROOT / "build" / "static_vectors")
    parser.add_argument("--dataset", default="hwu64")
    parser.add_argument("--grid", required=True, help="JSON list of settings")
    parser.add_argument("--test", action="store_true", help="also train on train, score test")
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--fold-seed", type=int, default=0, help="shuffle of the 5 folds")
    parser.add_argument(
        "--timing", action="store_true", help="sizes and costs of the first setting"
    )
    args = parser.parse_args()
    if args.timing:
        print(json.dumps(timing(args.folder, Setting(**json.loads(args.grid)[0]))))
        return
    exp = Experiment(args.folder, args.dataset, args.fold_seed)
    out = args.folder / "results.jsonl"
    for kw in json.loads(args.grid):
        s = Setting(**kw)
        started = time.perf_counter()
        row: dict[str, Any] = {"dataset": args.dataset, "fold_seed": args.fold_seed, **s.key()}
        if not args.no_cv:
            folds = [exp.run(s, k) for k in range(5)]
            row["cv"] = round(float(np.mean(folds)), 4)
            row["folds"] = [round(a, 4) for a in folds]
        if args.test:
            row["test"] = round(exp.run(s, -1), 4)
        row["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(row), flush=True)
        with out.open("a") as stream:
            stream.write(json.dumps(row) + "\n")


def timing(folder: Path, s: Setting) -> dict[str, Any]:
    """Table sizes on disk, the static vector's cost per message (WordPiece with `tokenizers`,
    float16 rows gathered and averaged, random Fourier features if any), and one LinearSVC fit
    on the whole train split with and without it."""
    import tempfile

    from tokenizers import Tokenizer

    exp = Experiment(folder, "hwu64")
    table = exp.table(s)
    sizes = {}
    scale = np.abs(table).max(axis=1, keepdims=True).clip(1e-9) / 127.0
    with tempfile.TemporaryDirectory() as work:
        for name, arr in (
            ("float32", table.astype(np.float32)),
            ("float16", table.astype(np.float16)),
            ("int8", np.round(table / scale).astype(np.int8)),
        ):
            path = Path(work) / f"{name}.npy"
            np.save(path, arr)
            sizes[name] = path.stat().st_size
    sizes["int8_scales"] = table.shape[0] * 4
    tok = Tokenizer.from_file(str(model_folder() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    small = table.astype(np.float16)
    latencies = []
    for text in exp.test_texts:
        started = time.perf_counter()
        ids = np.array(tok.encode(text, add_special_tokens=False).ids, np.int64)
        vector = small[ids].astype(np.float32).mean(axis=0, keepdims=True)
        vector /= max(float(np.linalg.norm(vector)), 1e-9)
        if s.rff:
            vector = random_fourier(vector, s.rff, s.gamma)
        latencies.append(time.perf_counter() - started)
    started = time.perf_counter()
    dense = exp.dense(s, exp.ids, exp.ids)
    vector_seconds = time.perf_counter() - started
    sparse_train, _ = exp.sparse_fold(-1)
    fits = {}
    for name, x, c in (
        ("sparse", sparse_train, 1.0),
        ("sparse+static", combine(sparse_train, dense, s.weight), s.c),
    ):
        started = time.perf_counter()
        LinearSVC(C=c, random_state=0, tol=1e-3, max_iter=2000).fit(x, exp.y)
        fits[name] = round(time.perf_counter() - started, 2)
    return {
        **s.key(),
        "bytes": sizes,
        "parse_ms_p50": round(float(np.percentile(latencies, 50)) * 1000, 4),
        "parse_ms_p99": round(float(np.percentile(latencies, 99)) * 1000, 4),
        "train_vectors_seconds": round(vector_seconds, 2),
        "svc_fit_seconds": fits,
    }


if __name__ == "__main__":
    sys.exit(main())
