"""The dashboard app: a screen stack of picker -> run (-> runs list). Kept small on purpose:
the screens own their keys, the sources own the processes.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.binding import Binding

from cnn_tui.contract.kinds import optimises_an_image
from cnn_tui.ui.catalog import recipe_kind
from cnn_tui.ui.describer import Describer
from cnn_tui.ui.messages import LeaveScreen, OpenRun, OpenRuns, ShowRuns, StartRecipe


def run_screen_class(kind: str):
    """Style transfer shows pictures; every other kind shows the training panes."""
    if optimises_an_image(kind):
        from cnn_tui.ui.screens.style_run import StyleRunScreen

        return StyleRunScreen
    from cnn_tui.ui.screens.run import RunScreen

    return RunScreen


def run_kind(run_dir: Path) -> str:
    """The kind of the run in `run_dir`, from its recipe file."""
    from cnn_tui.record.rundir import RECIPE  # here: its imports (events, yaml) would delay the first frame

    return recipe_kind(run_dir / RECIPE)


class CnnTuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "cnn-tui"
    BINDINGS = [Binding("question_mark", "help", "Help")]

    def __init__(self, recipes_dirs: list[Path] | None = None, run_dirs: list[Path] | None = None,
                 runs_dir: Path = Path("runs"), first_screen=None, picture_mode: str = "halfblock",
                 stop_on_exit: bool = False, home: str = "picker") -> None:
        super().__init__()
        self.stop_on_exit = stop_on_exit  # quitting stops the live runs shown (default: they go on)
        self.home = home  # "runs": open on the runs list (a returning user with live runs)
        self.picture_mode = picture_mode  # halfblock, kitty or sixel: see ui/picture_mode.py
        self.recipes_dirs = list(recipes_dirs or [])
        self.run_dirs = list(run_dirs or [])  # `cnn-tui open`: one run, or several compared
        self.runs_dir = runs_dir
        self.first_screen = first_screen  # tests and benchmarks hand in a ready screen
        self.describer = Describer()  # the picker's layer tables, from a helper process

    def on_mount(self) -> None:
        from cnn_tui.ui.screens.picker import PickerScreen
        from cnn_tui.ui.terminal_output import install

        install(self)  # fewer bytes for the same screen (over SSH, most of what a live run costs)

        if self.stop_on_exit:
            self._exit_on_hangup()
        self._watch_the_terminal()

        self.push_screen(PickerScreen(self.recipes_dirs, self.describer))
        if self.first_screen is not None:
            self.push_screen(self.first_screen)
        elif self.run_dirs:
            self.open_runs(self.run_dirs)
        elif self.home == "runs":
            self.post_message(ShowRuns())

    def _exit_on_hangup(self) -> None:
        """--stop-on-exit: a closed terminal or a dropped SSH connection (SIGHUP), or SIGTERM, quits
        the way `q` would, so that the screens stop their runs. Without it the signal just ends the
        dashboard: the runs are processes of their own and train on."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for name in ("SIGHUP", "SIGTERM"):
            if hasattr(signal, name):
                try:
                    loop.add_signal_handler(getattr(signal, name), self.exit)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass  # not the main thread (tests), or no signals here

    def _watch_the_terminal(self) -> None:
        """Quit when the terminal has gone though no SIGHUP came (`make dashboard`, nohup): an
        orphaned dashboard spun at 100% of a core (ui/terminal_watch.py)."""
        from cnn_tui.ui.terminal_watch import CHECK_SECONDS, hung_up, terminal_fd

        fd = terminal_fd()
        if fd is None:
            return

        def check() -> None:
            if hung_up(fd):
                self.exit()

        self.set_interval(CHECK_SECONDS, check)

    @on(StartRecipe)
    def start_recipe(self, message: StartRecipe) -> None:
        """Run the recipe in a child process; its overrides are `--set FIELD=VALUE`s."""
        from cnn_tui.ui.sources import ChildRun  # here, not at the top: the picker's first frame does without it

        self.run_worker(self.describer.stop(), exclusive=False)  # no CPU taken from the run
        screen = run_screen_class(recipe_kind(message.recipe))
        extra = [arg for value in message.overrides for arg in ("--set", value)]
        source = ChildRun(message.recipe, self.runs_dir, extra)  # its own process: it outlives this app
        self.push_screen(screen(source, title=message.recipe.stem))

    @on(OpenRun)
    def _open_run(self, message: OpenRun) -> None:
        self.open_run(message.run_dir)

    def open_run(self, run_dir: Path) -> None:
        from cnn_tui.ui.sources import FollowRunDir

        screen = run_screen_class(run_kind(run_dir))
        self.push_screen(screen(FollowRunDir(run_dir), title=run_dir.name))

    @on(OpenRuns)
    def _open_runs(self, message: OpenRuns) -> None:
        self.open_runs(message.run_dirs)

    def open_runs(self, run_dirs: list[Path]) -> None:
        """One run on its own screen; several compared on the first classifier's curves (a style
        transfer has none to share: it is listed, not overlaid)."""
        if len(run_dirs) == 1:
            self.open_run(run_dirs[0])
            return
        from cnn_tui.ui.screens.compare import CompareScreen

        ordered = sorted(run_dirs, key=lambda d: optimises_an_image(run_kind(d)))  # stable
        if optimises_an_image(run_kind(ordered[0])):
            self.notify("Style transfers have no shared curves to overlay: each opens on its own (esc for the next).")
            for run_dir in reversed(ordered):
                self.open_run(run_dir)
            return
        self.push_screen(CompareScreen.of(ordered))

    @on(ShowRuns)
    def show_runs(self, message: ShowRuns) -> None:
        from cnn_tui.ui.screens.runs import RunsScreen

        pick = message.chosen is not None
        self.push_screen(RunsScreen(self.runs_dir, pick=pick), message.chosen)

    @on(LeaveScreen)
    def leave_screen(self) -> None:
        """Back to the screen below (the picker at the bottom); quit from the picker itself."""
        if len(self.screen_stack) > 2:  # Textual's default screen, the picker, and more
            self.pop_screen()
        else:
            self.exit()

    def pop_screen(self) -> AwaitComplete:
        """Every screen that closes (a run, a dialog) goes through here: what the collector froze may
        be that screen's garbage now (ui/collector.py)."""
        from cnn_tui.ui import collector

        collector.release()
        return super().pop_screen()

    async def on_unmount(self) -> None:
        await self.describer.stop()

    def action_help(self) -> None:
        from cnn_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())
