"""cnn-tui's benchmark suite: what the dashboard and the engine cost against plain PyTorch.

Run `python -m benchmarks` (or `make benchmark`); `--quick` for a short version. Each
case runs a few times, interleaved with its baseline, and the table shows medians,
ratios, the target and PASS/FAIL. Timings are ratios measured side by side in one run,
because these machines are shared and noisy; absolute numbers are for the record.
"""
