"""`cnn-tui run RECIPE --nproc N`: start N workers through torchrun's own module
(torch.distributed.run), each running `cnn-tui run` as one rank, and turn their exit into one.

torchrun does the rest: rendezvous (standalone on one node; static or c10d across nodes),
environment per rank, forwarding SIGINT/SIGTERM to the workers (each finishes its step, rank 0
saves last.pt, all exit 130), and stopping every rank when one dies. What torchrun cannot know is
the run directory: a rank that died is recorded here in summary.json (which rank, how it ended,
the last lines of its log) so the run does not read as rank 0's side effect of it.
"""

from __future__ import annotations

import logging
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_tui.contract.events import RunFinished
from cnn_tui.contract.sinks import EventSink
from cnn_tui.contract.status import Status, run_is_over
from cnn_tui.parallel.rank_logs import RUN_DIR_NOTE, SCRATCH_ENV, held_path, last_lines, log_path
from cnn_tui.record import rundir

INTERRUPTED, FAILED, BAD_INPUT = Status.INTERRUPTED.exit_code, Status.FAILED.exit_code, 2


@dataclass
class Topology:
    nproc: int = 1  # workers on this node
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None
    rdzv_endpoint: str | None = None  # HOST:PORT of a c10d rendezvous (elastic: no fixed node ranks)

    def torchrun_args(self) -> list[str]:
        args = ["--nproc-per-node", str(self.nproc), "--nnodes", str(self.nnodes),
                "--max-restarts", "0", "--monitor-interval", "0.1"]
        if self.rdzv_endpoint:
            return args + ["--rdzv-backend", "c10d", "--rdzv-endpoint", self.rdzv_endpoint, "--rdzv-id", "cnn-tui"]
        if self.nnodes == 1 and self.master_addr is None and self.master_port is None:
            return args + ["--standalone"]  # a free port on localhost: runs side by side never collide
        return args + ["--node-rank", str(self.node_rank), "--master-addr", self.master_addr or "127.0.0.1",
                       "--master-port", str(self.master_port or 29500)]


def launch(topology: Topology, worker_args: list[str], announce: EventSink, say: Any) -> int:
    """Run the workers; the exit code of the whole run. `announce` gets a `finished` event if rank 0
    died before it could send one; `say` prints a line for the user."""
    import os

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    for name in list(logging.root.manager.loggerDict):  # our own lines say what happened
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="cnn-tui-launch-") as folder:
        scratch = Path(folder)
        note = scratch / RUN_DIR_NOTE
        os.environ[SCRATCH_ENV] = folder
        # the node's cores shared among its workers (torchrun would say so, then set 1)
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // topology.nproc)))
        started = time.time()
        try:
            run(parse_args([*topology.torchrun_args(), "-m", "cnn_tui", "run", *worker_args]))  # type: ignore[no-untyped-call]
            return 0
        except SignalException as exc:  # torchrun has passed the signal on and waited for the ranks
            run_dir = Path(note.read_text(encoding="utf-8")) if note.is_file() else None
            summary = rundir.read_summary(run_dir) if run_dir else None
            if summary is not None and run_is_over(summary.get("status")):
                return int(summary.get("exit_code", 0))  # the signal came as the run ended by itself
            say(f"received {signal.Signals(exc.sigval).name}: the ranks saved and stopped")
            return INTERRUPTED
        except ChildFailedError as exc:
            codes = {rank: failure.exitcode for rank, failure in exc.failures.items()}
            stamps = {rank: failure.timestamp for rank, failure in exc.failures.items()}
            run_dir = Path(note.read_text(encoding="utf-8")) if note.is_file() else None
            return settle(codes, stamps, run_dir, scratch, topology.nproc * topology.nnodes, started, announce, say)
        finally:
            os.environ.pop(SCRATCH_ENV, None)


def settle(codes: dict[int, int], stamps: dict[int, int], run_dir: Path | None, scratch: Path, world_size: int,
           started: float, announce: EventSink, say: Any) -> int:
    """The ranks' exit codes (only those that failed) -> the run's, recording a rank that died."""
    rank0 = codes.get(0, 0)
    if rank0 == BAD_INPUT:
        return BAD_INPUT  # rank 0 said why, in one line; nothing of the run was written
    # SIGTERM is torchrun stopping the ranks still running once one has ended: it decides nothing
    decisive = {r: c for r, c in codes.items() if c != -signal.SIGTERM}
    if 0 in decisive and rank0 > 0 and set(decisive.values()) == {rank0}:
        return rank0  # the ranks ended as they agreed (interrupted, diverged, failed); rank 0 wrote it down
    culprit = min(codes, key=lambda r: (_tier(r, codes[r]), stamps.get(r, 0), r))
    how = _how(codes[culprit])
    say(f"rank {culprit} {how}; the run failed" + (f" (see {run_dir})" if run_dir else ""))
    if run_dir is not None:
        record_dead_rank(run_dir, culprit, how, started, announce)
    elif culprit != 0:  # before the run directory existed: its held output is all there is
        for line in last_lines(held_path(scratch, culprit), 5):
            say(f"  rank {culprit}: {line}")
    return FAILED


def _tier(rank: int, code: int) -> int:
    """How likely a rank's exit is the cause: killed outright, then a crash of its own, then rank 0's
    (often the others' consequence), then torchrun's SIGTERM and clean stops."""
    if code < 0 and code != -signal.SIGTERM:
        return 0
    if code not in (0, INTERRUPTED, -signal.SIGTERM):
        return 1 if rank != 0 else 2
    return 3


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def record_dead_rank(run_dir: Path, rank: int, how: str, started: float, announce: EventSink) -> None:
    """summary.json says which rank ended the run and how; if rank 0 itself is gone, this writes the
    summary and the `finished` event that it could not."""
    summary = rundir.read_summary(run_dir)
    lines = last_lines(log_path(run_dir, rank)) if rank != 0 else []
    reason = f"rank {rank} {how}"
    if lines:
        reason += f"; its last line: {lines[-1].strip()[:200]}"
    if summary is not None:
        earlier = summary.get("reason")
        summary.update(status=Status.FAILED, ok=False, exit_code=FAILED,
                       reason=reason + (f" (rank 0: {earlier})" if earlier else ""))
    else:
        wall = round(time.time() - started, 3)
        summary = {"run_id": run_dir.name, "status": Status.FAILED, "ok": False, "reason": reason,
                   "exit_code": FAILED, "wall_seconds": wall}
    summary["failed_rank"] = {"rank": rank, "how": how, "last_log_lines": lines}
    had_finished = (run_dir / rundir.SUMMARY).exists()
    rundir.write_summary(run_dir, summary)
    if not had_finished:  # rank 0 died before its `finished`: readers must still see the run end
        event = RunFinished(status=Status.FAILED, reason=reason, step=0, epoch=0,
                            wall_seconds=summary["wall_seconds"], best={}, final={})
        events = rundir.RunDirSink(run_dir)
        events.emit(event)
        events.close()
        announce.emit(event)
