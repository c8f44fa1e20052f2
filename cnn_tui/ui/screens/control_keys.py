"""The run screen's keys that steer the run: p pauses and resumes, s stops, q and escape ask whether
to stop it or leave it training. Every run is a process of its own, steered through its folder's
control channel (the source's `send`), so these work the same for a run this dashboard started and
for one it attached to; what the run did comes back as its events, which every attached dashboard reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from cnn_tui.ui.messages import LeaveScreen
from cnn_tui.ui.sources import RunSource

NOTICE_SECONDS = 8.0  # a control command's error stays in the status bar this long


class ControlKeys:
    """Mixed into RunScreen (which declares the bindings and owns `source` and `state`)."""

    source: RunSource
    state: Any
    _decided: bool
    if TYPE_CHECKING:  # the Screen's own, declared for the type checker only

        app: Any

        def notify(self, *args: Any, **kwargs: Any) -> None: ...

        def set_timer(self, *args: Any, **kwargs: Any) -> Any: ...

        def post_message(self, message: Any) -> bool: ...

        def refresh_if_changed(self) -> None: ...

    def _controllable(self) -> bool:
        if not self.source.live:
            self.notify("A recorded run cannot be controlled.", severity="warning")
            return False
        if not self.state.live:
            self.notify(f"This run is {self.state.status.replace('_', ' ')}: there is nothing to control.",
                        severity="warning")
            return False
        return True

    def action_toggle_pause(self) -> None:
        if self._controllable():
            self.send("resume" if self.state.status == "paused" else "pause")

    def action_stop(self) -> None:
        if self._controllable():
            self.send("stop")
            self.state.status = "stopping"  # until the run's own events say how it ended
            self.state.version += 1
            self.notify("Stopping: finishing the step and saving a checkpoint...")

    @work(group="control")
    async def send(self, command: str) -> None:
        """Through the run folder's control channel; the run's events show what it did. A command the
        run could not take is one line in the status bar (for a few seconds)."""
        from cnn_tui.contract.errors import UsageError

        try:
            await self.source.send(command)
        except UsageError as exc:
            self.state.tell(f"{command}: {exc}")
            self.set_timer(NOTICE_SECONDS, lambda: self.state.tell(""))
        self.refresh_if_changed()

    def action_back(self) -> None:
        if self.state.live and self.source.live:
            self.action_quit_run(back=True)
            return
        self.post_message(LeaveScreen())

    @property
    def stop_on_exit(self) -> bool:
        return bool(getattr(self.app, "stop_on_exit", False))

    def action_quit_run(self, back: bool = False) -> None:
        """A live run: ask whether to stop it or leave it training; enter takes the default (leave it,
        or stop it under --stop-on-exit), which is also what happens when the dashboard just goes."""
        if not (self.state.live and self.source.live):
            self.app.exit() if not back else self.post_message(LeaveScreen())
            return
        from cnn_tui.ui.screens.confirm_quit import ConfirmQuit

        async def decided(choice: str | None) -> None:
            if choice in ("stop", "detach"):
                self._decided = True
                if choice == "stop":
                    self.notify("Stopping: finishing the step and saving a checkpoint...")
                await self.source.close(detach=choice == "detach")
                if back:
                    self.post_message(LeaveScreen())
                else:
                    self.app.exit()

        self.app.push_screen(ConfirmQuit(default="stop" if self.stop_on_exit else "detach"), decided)
