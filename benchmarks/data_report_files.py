"""`validate --data` on a generated folder of many small image files, cold and warm: the time of
the data report (loading, counts, leakage) the first time and again with the decode cache and
the fingerprint cache (preflight/print_cache.py) filled. A standalone script (issue 30), not a
case of `python -m benchmarks`: generating the files takes longer than a case should.

    .venv/bin/python -m benchmarks.data_report_files --files 20000 [--loader stream|memory] [--keep DIR]

It prints one line per pass with the seconds and the load average. The cache folder is a
temporary one (the user's ~/.cache is not touched); the files are removed unless --keep names a
folder to generate them into (and reuse).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

CLASSES = ("a", "b", "c", "d")


def generate(root: Path, files: int, size: int = 24) -> None:
    """`files` random-noise PNGs, 80% train / 20% val, in class folders (a few planted copies)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(files):
        split = "val" if i % 5 == 0 else "train"
        folder = root / split / CLASSES[i % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    for i in (1, 2, 3, 4, 6):  # 5 val copies of training images (i % 5 == 0 are val)
        (root / "val" / CLASSES[i % len(CLASSES)] / f"copy{i}.png").write_bytes(
            (root / "train" / CLASSES[i % len(CLASSES)] / f"{i}.png").read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--loader", choices=["stream", "memory"], default="stream")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    args = parser.parse_args()
    from cnn_tui.preflight.data_report import data_report
    from cnn_tui.recipes.loader import load_recipe

    root = args.keep or Path(tempfile.mkdtemp(prefix="cnn-tui-bench-files-"))
    cache = Path(tempfile.mkdtemp(prefix="cnn-tui-bench-cache-"))
    try:
        started = time.perf_counter()
        if not (root / "train").is_dir():
            generate(root, args.files)
            print(f"generated {args.files:,} files in {time.perf_counter() - started:.1f} s")
        recipe_path = cache / "bench.yaml"
        recipe_path.write_text(
            f"kind: scratch\nname: bench\ndevice: cpu\ndata: {{dataset: image_folder, train_path: {root / 'train'}, "
            f"val_path: {root / 'val'}, image_size: 24, loader: {args.loader}, decode_cache: {cache / 'decoded'}}}\n"
            "model: {arch: vgg, vgg_config: [4, M]}\ntrain: {epochs: 1, batch_size: 64}\n")
        recipe, _ = load_recipe(recipe_path)
        for label in ("cold", "warm"):
            started = time.perf_counter()
            text, leaked = data_report(recipe)
            seconds = time.perf_counter() - started
            leak = next(line for line in text.splitlines() if line.startswith("leakage"))
            print(f"{label}: {seconds:.1f} s for {args.files:,} files ({args.loader}); load {os.getloadavg()[0]:.1f}; "
                  f"{leak[:80]}")
            assert leaked
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
