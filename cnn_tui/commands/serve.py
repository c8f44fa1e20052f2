"""`cnn-tui serve`: the dashboard in a browser (textual-serve)."""

from __future__ import annotations

import sys
from argparse import Namespace


def cmd_serve(args: Namespace) -> int:
    """The dashboard in a browser: textual-serve starts `cnn-tui` per tab, on Textual's web driver."""
    import shlex

    from cnn_tui.contract.errors import UsageError

    try:
        from textual_serve.server import Server
    except ImportError:
        raise UsageError("serve needs the textual-serve package, which is not installed: "
                         "pip install 'cnn-tui[web]'") from None
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is 1..65535")
    if args.recipes is not None and not args.recipes.is_dir():  # checked here, not in every tab's dashboard
        raise UsageError(f"--recipes {args.recipes}: no such folder")
    command = [sys.executable, "-m", "cnn_tui"] + (["--recipes", str(args.recipes.resolve())] if args.recipes else [])
    print(f"cnn-tui dashboard at http://{args.host}:{args.port} (Ctrl+C stops serving; runs go on)", flush=True)
    try:
        Server(shlex.join(command), host=args.host, port=args.port, title="cnn-tui").serve()
    except OSError as exc:  # the port is taken, or not ours to take
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
