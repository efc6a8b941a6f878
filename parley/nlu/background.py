"""Generic English messages that show an assistant where its own domain ends.

`data/background_en.txt` holds 2,400 messages people type to chat assistants, spread over some
sixty topics (general knowledge, banking, travel, IT support, cooking, ...), written for Parley
(see data/README.md). The in-domain score compares how densely a message's neighbourhood holds
the predicted intent's examples and how densely it holds these messages: a kernel density ratio
over static word vectors. A question about another topic sits among background messages only.

The background also has messages of the assistant's own topics (any assistant's topics are
somebody's background). They lower the ratio of in-domain messages a little but do not reorder
them: the project's examples are a sample of its domain and the background an unlabelled mix,
and the ratio of the two densities ranks messages as the in-domain probability would. The
calibration on held-out in-domain messages places Rasa's thresholds on the combined score.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

BACKGROUND_FILE = Path(__file__).parent / "data" / "background_en.txt"


@functools.cache
def background_texts() -> tuple[str, ...]:
    lines = BACKGROUND_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def background_digest() -> str:
    return hashlib.sha256("\n".join(background_texts()).encode()).hexdigest()[:16]


@functools.cache
def background_vectors() -> np.ndarray:
    """Static word vectors of the background messages (read-only, shared by the process)."""
    from parley.nlu.static_vectors import shared_vectors

    vectors = shared_vectors().vectors(list(background_texts()))
    vectors.setflags(write=False)
    return vectors


def log_mean_kernel(cosines: np.ndarray, bandwidth: float) -> np.ndarray:
    """log of the mean of exp(cosine / bandwidth) over the last axis (a kernel density up to a
    constant), computed without overflow; -inf over an empty set."""
    if cosines.shape[-1] == 0:
        return np.full(cosines.shape[:-1], -np.inf)
    scaled = cosines / bandwidth
    top = scaled.max(axis=-1, keepdims=True)
    summed = np.exp(scaled - top).mean(axis=-1)
    return np.asarray(top[..., 0] + np.log(summed))
