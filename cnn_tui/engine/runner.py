"""Run a recipe of any kind: the one entry point that the headless CLI, the dashboard's child
process, `compare` and the tests all go through.

`execute` owns what every run shares (resume state, dry run, seeding, device, the run
directory, sinks, `run_started`, the summary); the kind's engine plug-in (`kinds.engine_for`)
supplies the rest through the small protocols of `cnn_tui.engine.plugins`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnn_tui.contract.errors import UsageError, WriteError, write_failed
from cnn_tui.contract.events import Log, RunFinished
from cnn_tui.contract.sinks import EventSink, FanOut
from cnn_tui.contract.status import Status
from cnn_tui.contract.writable import check_folder
from cnn_tui.data.streams import CURRENT, LEGACY, Streams
from cnn_tui.engine import stopping
from cnn_tui.engine.plugins import KindEngine, engine_for
from cnn_tui.engine.world import World, join_if_launched
from cnn_tui.models.init_from import skipped_on_resume
from cnn_tui.parallel import rank_logs
from cnn_tui.recipes.loader import recipe_to_dict
from cnn_tui.recipes.resume_changes import describe as describe_changes
from cnn_tui.recipes.schema import RecipeCommon
from cnn_tui.record import rundir
from cnn_tui.record.writer import RunWriter
from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import device_name, pick_device


@dataclass
class RunOptions:
    out: Path = Path("runs")
    resume: Path | None = None  # an existing run directory to continue
    device: str | None = None  # overrides recipe.device
    dry_run: bool = False  # a couple of steps, nothing written
    recipe_changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # --resume --allow-changes: recorded


@dataclass
class RunResult:
    status: Status
    exit_code: int
    run_dir: Path | None
    summary: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ the run

def execute(recipe: RecipeCommon, options: RunOptions, sink: EventSink, control: RunControl | None = None) -> RunResult:
    control = control or RunControl()
    kind: KindEngine = engine_for(recipe.kind)
    if options.dry_run:
        recipe = kind.dry_run(recipe)
    device = pick_device(options.device or recipe.device)
    world, device = join_if_launched(recipe, device)  # under torchrun: this rank's place and GPU
    result = _execute(recipe, options, sink, control, kind, device, world)  # bad input: this rank exits at once
    world.leave()  # a run that ended (as the ranks agreed): every rank waits for the others, then goes
    return result


def _execute(recipe: RecipeCommon, options: RunOptions, sink: EventSink, control: RunControl, kind: KindEngine,
             device: torch.device, world: World) -> RunResult:
    if world.writes and not options.dry_run:  # a bad --out is one line now, not after preparing
        check_folder(options.resume or options.out, "--resume" if options.resume else "--out")
    held = _Held(control)
    try:
        return _execute_held(recipe, options, sink, control, kind, device, world, held)
    finally:
        held.release()  # the folder is let go however the run ends (the kernel does it on a kill)


def _execute_held(recipe: RecipeCommon, options: RunOptions, sink: EventSink, control: RunControl,
                  kind: KindEngine, device: torch.device, world: World, held: _Held) -> RunResult:
    if options.resume and world.writes and not options.dry_run:
        held.take(_existing_run_dir(options.resume))  # before reading its checkpoint: one writer at a time
    state = world.broadcast(_load_resume_state(options.resume) if options.resume and world.writes else None)
    streams = Streams(recipe.seed, state.get("streams", LEGACY) if state is not None else CURRENT)  # a resumed
    torch.manual_seed(streams.seed_for("init"))  # run keeps its own; the same initial weights on every rank
    if world.rank > 0:
        world.barrier()  # rank 0 prepares first: downloads and caches are written once, then read
    # [issue 28] model.init_from is read when a run starts, never on resume: the checkpoint holds its weights
    prepared_from, resumed_note = skipped_on_resume(recipe) if state is not None else (recipe, None)
    prepared = kind.prepare(prepared_from, device, options.dry_run, world, streams)
    if world.rank == 0:
        world.barrier()
    if (dropout := streams.dropout_seed(world.rank, world.distributed)) is not None:
        torch.manual_seed(dropout)  # each rank's own dropout stream, apart from the init's
    devices = world.gather(device_name(device))
    stopping.prepared(control)  # from here a signal stops the run after a step, saving
    # ---- the run starts: from here on, everything is recorded (by rank 0)
    run_dir = _open_run_dir(recipe, options) if world.writes else None
    if run_dir is not None and held.writer is None:
        held.take(run_dir)
    if world.distributed:
        shared = world.broadcast(str(run_dir) if run_dir else None)
        rank_logs.settle(Path(shared) if shared else None, world.rank)
    fan = FanOut(sink, *([rundir.RunDirSink(run_dir)] if run_dir is not None else []),
                 *([held.writer] if held.writer is not None else []))  # the writer watches what the loop does
    loop: Any = None
    started_at = time.time()
    try:  # a second Ctrl+C from here on still ends with summary.json
        loop = prepared.start(fan, control, run_dir)
        if state is not None:
            loop.load_state_dict(state)
        fan.emit(prepared.started(loop, run_id=run_dir.name if run_dir else "dry-run", recipe_name=recipe.name,
                                  kind=recipe.kind, device=device.type, device_name=device_name(device),
                                  start_step=loop.step, resumed=state is not None, world_size=world.size))
        if resumed_note is not None:  # [issue 28] said once the resumed run has started
            fan.emit(Log(level="info", message=resumed_note))
        if options.recipe_changes and run_dir is not None:  # recorded once the changed run has really started
            rundir.rewrite_recipe(run_dir, recipe_to_dict(recipe))
            changed = describe_changes(options.recipe_changes)
            fan.emit(Log(level="warning", message=f"resumed with a changed recipe (--allow-changes): {changed}; "
                                                  "recipe.yaml records it"))
        prepared.after_started(fan, run_dir, loop)
        outcome: Any = loop.run()
        prepared.finish(outcome, loop)
        summary = summary_fields(recipe, Status(outcome.status), outcome.reason, device, run_dir, started_at,
                                 loop.clock.seconds, **prepared.summary(outcome, loop),
                                 **_world_fields(world, devices))
    except (stopping.QuitNow, WriteError) as exc:  # a second Ctrl+C, or the record could not be written
        status = Status.INTERRUPTED if isinstance(exc, stopping.QuitNow) else Status.FAILED
        outcome = _Ended(status, _ended_reason(exc, run_dir))
        seconds = loop.clock.seconds if loop is not None else time.time() - started_at
        summary = summary_fields(recipe, status, outcome.reason, device, run_dir, started_at, seconds,
                                 steps=getattr(loop, "step", 0), **_world_fields(world, devices))
    try:
        kept = run_dir is None or _keep_summary(run_dir, summary, fan)  # before `finished`: who sees it end finds it
        fan.emit(RunFinished(status=Status(outcome.status), reason=outcome.reason, step=getattr(loop, "step", 0),
                             epoch=summary.get("epochs_completed", 0), wall_seconds=summary["wall_seconds"],
                             best=summary.get("best") or {}, final=summary.get("final") or {}))
    except WriteError as exc:  # events.jsonl failed at the very end: the printer has had its line
        fan.emit(Log(level="error", message=str(exc)))
        kept = False
    finally:
        fan.close()
    status = Status(outcome.status)
    exit_code = status.exit_code if kept or not status.ok else 1
    return RunResult(status, exit_code, run_dir, summary)


@dataclass
class _Ended:
    status: Status
    reason: str


def _ended_reason(exc: BaseException, run_dir: Path | None) -> str:
    if not isinstance(exc, stopping.QuitNow):
        return str(exc)
    kept = run_dir is not None and rundir.RunDir(run_dir).last.is_file()
    return str(exc) + ("; the last complete checkpoint is kept (checkpoints/last.pt)" if kept
                       else "; no checkpoint had been saved yet")


def _keep_summary(run_dir: Path, summary: dict[str, Any], sink: EventSink) -> bool:
    """Write summary.json; a disk that cannot take it is one line (and exit 1), not a traceback."""
    try:
        rundir.write_summary(run_dir, summary)
        return True
    except OSError as exc:
        sink.emit(Log(level="error", message=str(write_failed(run_dir / rundir.SUMMARY, exc, "write the summary"))))
        return False


def _world_fields(world: World, devices: list[str]) -> dict[str, Any]:
    if not world.distributed:
        return {}
    return {"world_size": world.size, "backend": world.backend, "devices": devices}


def _open_run_dir(recipe: RecipeCommon, options: RunOptions) -> Path | None:
    """The run's directory: none for a dry run, the old one on resume, else a new one with recipe.yaml."""
    if options.dry_run:
        return None
    if options.resume is not None:
        rundir.clean_stale_temps(options.resume)  # what a killed save left (a SIGKILL mid-write)
        return options.resume
    run_dir = rundir.create_run_dir(options.out, recipe.name, recipe_to_dict(recipe))
    rank_logs.tell_launcher(run_dir)
    return run_dir


class _Held:
    """The run folder this process writes, once it has one (record/writer.py: lock, heartbeat, commands)."""

    def __init__(self, control: RunControl) -> None:
        self.control = control
        self.writer: RunWriter | None = None

    def take(self, run_dir: Path) -> None:
        self.writer = RunWriter.take(run_dir, lambda command, origin: self.control.handle_command(command, origin))

    def release(self) -> None:
        if self.writer is not None:
            self.writer.release()


def _existing_run_dir(run_dir: Path) -> Path:
    if not run_dir.is_dir():
        raise UsageError(f"--resume {run_dir}: no such run directory")
    return run_dir


def _load_resume_state(run_dir: Path) -> dict[str, Any]:
    _existing_run_dir(run_dir)
    try:
        return load_checkpoint(rundir.RunDir(run_dir).last)
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}") from None


def summary_fields(recipe: RecipeCommon, status: Status, reason: str, device: torch.device, run_dir: Path | None,
                   started_at: float, wall_seconds: float, **specific: Any) -> dict[str, Any]:
    """summary.json: the fields every kind of run has, then its own (`specific`)."""
    return {
        "run_id": run_dir.name if run_dir else None,
        "recipe": recipe.name,
        "kind": recipe.kind,
        "status": status,
        "ok": status.ok,
        "reason": reason,
        "exit_code": status.exit_code,
        "device": device.type,
        "device_name": device_name(device),
        **specific,
        "wall_seconds": round(wall_seconds, 3),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
