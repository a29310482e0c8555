"""Which samples each Training row uses: the one place the order of the samples is decided.

In batch mode every row uses every sample. In sgd and minibatch mode the K samples are cut into
K/B batches of B = batch_size (1 for sgd); an epoch visits each batch once, in the order of a
permutation of the samples: 1..K when shuffle is false, otherwise a fresh
np.random.default_rng(seed).permutation(K) per epoch. The order is drawn once here and written
into the Training sheet as constants; the NumPy reference trains from the same array.
"""

from __future__ import annotations

import numpy as np

from sheetnet.model.spec import Spec


def batches(spec: Spec, rows: int | None = None) -> np.ndarray:
    """Sample indices (from 0) of every row t = 0..iterations, shape (iterations + 1, slots);
    only the first `rows` rows if given (the same numbers: later epochs are drawn later).

    The final row (after the last update) shows the loss on the batch that would come next.
    """
    rows = spec.iterations + 1 if rows is None else rows
    K, B = spec.n_samples, spec.slots
    if spec.mode == "batch":
        return np.broadcast_to(np.arange(K), (rows, K))
    per_epoch = K // B
    n_epochs = -(-rows // per_epoch)
    if spec.shuffle:
        rng = np.random.default_rng(spec.seed)
        order = np.concatenate([rng.permutation(K) for _ in range(n_epochs)])
    else:
        order = np.tile(np.arange(K), n_epochs)
    return order.reshape(-1, B)[:rows]


def epochs(spec: Spec) -> np.ndarray:
    """The epoch (from 1) of every row t = 0..iterations."""
    per_epoch = spec.n_samples // spec.slots
    return np.arange(spec.iterations + 1) // per_epoch + 1
