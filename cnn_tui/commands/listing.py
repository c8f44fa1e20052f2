"""`cnn-tui list [FOLDER]`: the built-in recipes (or a folder's), one line each."""

from __future__ import annotations

from argparse import Namespace


def cmd_list(args: Namespace) -> int:
    from cnn_tui.contract.errors import UsageError
    from cnn_tui.recipes import builtin

    folder = args.folder
    if folder is not None and not folder.is_dir():
        what = "not a folder but a file" if folder.exists() else "no such folder"
        raise UsageError(f"list {folder}: {what} (give a folder of recipe .yaml files)")
    try:
        rows = list(builtin.headers(folder))
    except OSError as exc:
        raise UsageError(f"list {folder}: cannot read the folder: {exc.strerror or exc}") from None
    if not rows:
        print(f"no recipes in {args.folder or builtin.recipes_dir()}")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['kind']:<18}  {r['dataset']:<12}  {r['description']}")
    return 0
