"""`python -m cnn_tui.insight.tsne_child FEATURES.npy COORDS.npy`: scikit-learn's t-SNE, in a process
of its own (insight/embedding.tsne starts it).

Apart from the training process because scikit-learn's Barnes-Hut gradient is compiled code with
an OpenMP runtime of its own beside torch's: it crashed a training process with a segmentation
fault at the end of a run (CI, 2026-12-06), which lost the run's summary. Here a crash costs the
t-SNE picture only. Exit 3: scikit-learn is not installed.
"""

from __future__ import annotations

import sys

import numpy as np

NO_SKLEARN_EXIT = 3


def main(argv: list[str]) -> int:
    source, target = argv
    try:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits
    except ImportError:
        return NO_SKLEARN_EXIT
    x = np.load(source).astype(np.float64)
    perplexity = min(30.0, (len(x) - 1) / 3)  # sklearn needs perplexity < N; 30 is its default
    # One OpenMP thread: its gradient's threads spin at each of ~1,000 barriers, and on a machine whose
    # cores are busy (the training, the dashboard) that turned 2 s of work into minutes.
    with threadpool_limits(limits=1, user_api="openmp"):
        coords = TSNE(2, perplexity=perplexity, init="pca", random_state=0).fit_transform(x)
    np.save(target, coords.astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
