"""Checks before the long run: the learning-rate range test (`cnn-tui lr-find`), the one-batch
sanity check (`cnn-tui run --overfit-batch`), the data report with its leakage check, and the
cost estimate. Each runs short loops of its own on the recipe's own model, data, optimizer and
augmentation (prepared by the classification engine, `train/kind.py`); the training loop itself
(`train/trainer.py`) is not used, so these never write checkpoints or touch a run's state.
"""
