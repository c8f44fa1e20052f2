"""The first screen: recipes grouped by kind, a filter, and a preview with the layer table."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cnn_tui.contract.errors import CnnTuiError
from cnn_tui.contract.kinds import KINDS, kind_spec, optimises_an_image
from cnn_tui.contract.user_code import model_file
from cnn_tui.ui.catalog import discover, summary_lines
from cnn_tui.ui.describer import Describer
from cnn_tui.ui.messages import ShowRuns, StartRecipe
from cnn_tui.ui.preflight_child import preview_lines, read_preflight
from cnn_tui.ui.widgets.footer import Footer

DEFAULT = "scratch_cnn"  # the built-in default recipe, selected first
PREVIEW_DEBOUNCE_SECONDS = 0.25
PAPER_CLASSES = 1000  # `i`: the layer table sized as the papers' ImageNet tables (validate --classes 1000)
PREFLIGHT_DWELL_SECONDS = 1.0  # the data report and estimate start once a selection stays put this long


class PickerScreen(Screen):
    BINDINGS = [
        Binding("enter", "start", "Start", priority=True),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("e", "edit", "Edit"),
        Binding("c", "choose('content')", "Content image"),
        Binding("s", "choose('style')", "Style image"),
        Binding("n", "processes", "Processes"),
        Binding("r", "runs", "Runs"),
        Binding("t", "run_model_file", "Run your .py for its table"),
        Binding("a", "augment", "Augmentation grid", show=False),
        Binding("i", "classes", "Table at 1,000 classes", show=False),
        Binding("f", "lr_find", "lr-find", show=False),  # preflight (issue 30)
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, extra_dirs: list[Path], describer: Describer) -> None:
        super().__init__()
        self.extra_dirs = extra_dirs
        self.describer = describer  # the layer tables come from its helper process
        self.recipes = discover(extra_dirs)
        self.tables: dict[tuple[str, float, int | None], tuple[Any, ...] | Text] = {}  # a layer table, or why not
        self.table_classes: int | None = None  # i: tables sized for PAPER_CLASSES classes instead of the data's
        self.chosen: dict[str, dict[str, Path]] = {}  # recipe path -> {"content": file, "style": file}
        self.processes: dict[str, int] = {}  # recipe path -> processes chosen with n (data-parallel)
        self.allowed_code: set[str] = set()  # recipe paths whose own .py file the user chose to run (t)
        self.waiting_for_t: str | None = None  # the highlighted recipe's path, while its .py waits for t
        self.preflight: dict[tuple, dict[str, Any]] = {}  # (path, mtime, overrides) -> part -> lines (issue 30)
        self.painted = False  # the first frame is on the terminal: the preview waits for it

    def compose(self) -> ComposeResult:
        yield Static("[b]cnn-tui[/b]  pick a recipe, press [b]enter[/b] to train it   "
                     "[dim]? help · / filter · e edit · r runs[/dim]", id="picker-title")
        with Horizontal(id="picker"):
            with Vertical(id="recipe-column"):
                yield Input(placeholder="filter recipes", id="filter")
                yield OptionList(id="recipes")
            with VerticalScroll(id="preview-scroll"):
                yield Static(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.fill()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.query_one(OptionList).focus()
        self.call_after_refresh(self.show_preview)  # a table skipped under a run; after the (first) frame

    # ------------------------------------------------------------------ list
    def fill(self, needle: str = "") -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        needle = needle.lower()
        kind = None
        for index, r in enumerate(self.recipes):
            if needle and needle not in f"{r['name']} {r['description']} {r['kind']}".lower():
                continue
            if r["kind"] != kind:
                kind = r["kind"]
                title = kind_spec(kind).title if kind in KINDS else kind
                options.add_option(Option(Text(title, style="bold underline"), disabled=True))
            label = Text(f"  {r['name']}")
            if not r["builtin"]:
                label.append(f"  ({r['source']})", style="dim")
            options.add_option(Option(label, id=str(index)))
        enabled = [i for i in range(options.option_count) if not options.get_option_at_index(i).disabled]
        default = [i for i in enabled if self.recipes[int(options.get_option_at_index(i).id or -1)]["name"] == DEFAULT]
        candidates = default or enabled
        first = candidates[0] if candidates else None
        options.highlighted = first
        if first is None:
            self.query_one("#preview", Static).update("No recipe matches the filter.")

    def selected(self) -> dict | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return None if option.id is None else self.recipes[int(option.id)]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.refresh_bindings()  # the image keys show for style recipes only
        self.call_after_refresh(self.show_preview)  # the list first (the first frame), then the recipe read

    def overrides(self, r: dict) -> list[str]:
        """`--set` values for the images chosen for this recipe (JSON-quoted: any path is valid YAML)
        and the processes chosen for it."""
        images = [f"{role}_image={json.dumps(str(path))}" for role, path in self.chosen.get(r["path"], {}).items()]
        processes = self.processes.get(r["path"])
        return images + ([f"train.distributed.nproc={processes}"] if processes is not None else [])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_start()

    # ------------------------------------------------------------------ preview
    def on_resize(self) -> None:
        """The layer table keeps as many columns as the new width holds."""
        self.call_after_refresh(self.show_preview)

    def _compositor_refresh(self) -> None:
        """Textual's paint of this screen (its only way to the terminal). The first one is the first
        frame: only then is the preview read (its recipe schemas cost ~170 ms of imports), so that the
        list shows at once. call_after_refresh is not enough: it can run before a screen's first paint.
        Textual lays the first screen out inside its start-up batch and renders it there, to throw the
        render away (a batch shows nothing): that render is skipped, the screen repainted after it."""
        if not self.painted and self.is_current and self.app._batch_count:
            self.app.call_later(self.refresh)  # the app's queue is read once the batch is over
            return
        super()._compositor_refresh()
        if not self.painted and self.is_current and not self.app._batch_count:
            self.painted = True
            self.call_later(self.show_preview)

    def show_preview(self) -> None:
        if not self.painted:
            return  # the first paint calls it
        r = self.selected()
        if r is None:
            return
        from cnn_tui.recipes.loader import load_recipe

        text = Text()
        text.append(f"{r['name']}\n", style="bold")
        text.append(f"{r['description']}\n\n" if r["description"] else "\n")
        try:
            recipe, _ = load_recipe(r["path"], self.overrides(r))
        except CnnTuiError as exc:
            text.append(f"This recipe has an error:\n{exc}\n", style="red")
            self.query_one("#preview", Static).update(text)
            return
        for line in summary_lines(recipe):
            label, _, rest = line.partition(" ")
            text.append(f"{label:<10}", style="cyan")
            text.append(rest.strip() + "\n")
        where = f"built-in {Path(r['path']).name}" if r["builtin"] else r["path"]
        text.append(f"file      {where}\n", style="dim")
        if optimises_an_image(recipe.kind):
            mine = ", ".join(self.chosen.get(r["path"], {}))
            text.append(f"{'chosen    ' + mine + ' image, the recipe file is unchanged; ' if mine else ''}"
                        "c and s choose the content and style images\n", style="dim")
        text.append("\n")
        if model_file(recipe) is None or r["path"] in self.allowed_code:
            text.append_text(self.preflight_text(r, recipe))
        waiting = None
        key = (r["path"], os.path.getmtime(r["path"]), self.table_classes)
        if self.table_classes:
            text.append(f"sized for {self.table_classes:,} classes (validate --classes {self.table_classes}; "
                        "i: the data's)\n", style="dim")
        if key in self.tables:
            table = self.tables[key]
            if isinstance(table, tuple):
                (rows, total, trainable), width = table, max(30, self.query_one("#preview", Static).size.width)
                from cnn_tui.ui.widgets.model_table import layer_table_text  # not before the first frame
                text.append_text(layer_table_text(rows, total, trainable, width))
            else:
                text.append_text(table)
        elif (code := model_file(recipe)) is not None and r["path"] not in self.allowed_code:
            text.append(f"This recipe's model is your Python file {code}: its table needs that file run.\n"
                        "Press t to run it (import it in a helper process) and show its table.", style="yellow")
            waiting = r["path"]
        else:
            text.append("computing the layer table...", style="dim")
            self.compute_table(recipe, key)
        self.query_one("#preview", Static).update(text)
        if waiting != self.waiting_for_t:
            self.waiting_for_t = waiting
            self.refresh_bindings()  # t shows in the footer while it has something to run

    # ------------------------------------------------------------------ before you train (issue 30)
    def preflight_text(self, r: dict, recipe: Any) -> Text:
        """The data report and the cost estimate (validate --data --estimate), from a child process
        started once the selection has stayed put; "computing" until each part arrives."""
        if optimises_an_image(recipe.kind):
            return Text()
        key = (r["path"], os.path.getmtime(r["path"]), tuple(self.overrides(r)))
        if key not in self.preflight:
            self.preflight[key] = {}
            self.compute_preflight(r, key)
        return preview_lines(self.preflight[key])

    @work(exclusive=True, group="preflight")
    async def compute_preflight(self, r: dict, key: tuple) -> None:
        await asyncio.sleep(PREFLIGHT_DWELL_SECONDS)
        if self.app.screen is not self or self.selected() is not r:
            self.preflight.pop(key, None)  # asked again when it is highlighted again
            return

        def arrived(part: dict) -> None:
            found = self.preflight.setdefault(key, {})
            found[part["part"]] = part.get("lines", part.get("message", ""))
            if self.selected() is r:
                self.show_preview()

        try:
            await read_preflight(Path(r["path"]), key[2], arrived)
        except asyncio.CancelledError:
            if not {"cost", "error"} & set(self.preflight.get(key, {})):
                self.preflight.pop(key, None)  # cut short: computed anew when highlighted again
            raise
        except OSError as exc:
            arrived({"part": "error", "message": f"the preview's helper process could not start ({exc})"})

    def on_screen_suspend(self) -> None:
        """A run (or another screen) on top: the preview's child stops taking CPU."""
        self.workers.cancel_group(self, "preflight")

    def action_run_model_file(self) -> None:
        """The user asked for their model file to run: the helper imports it to build the table."""
        r = self.selected()
        if r is not None:
            self.allowed_code.add(r["path"])
            self.show_preview()

    @work(exclusive=True, group="layer-table")
    async def compute_table(self, recipe, key) -> None:
        """The layer table comes from a helper process (models need torch, which the dashboard
        never imports), only for a selection that stays put (typing a filter moves it)."""
        await asyncio.sleep(PREVIEW_DEBOUNCE_SECONDS)
        if self.app.screen is not self:
            return
        answer = await self.describer.describe(key[0], key[2])
        if answer is None:  # a run started meanwhile; the preview is redone on return
            return
        if "error" in answer:
            self.tables[key] = Text(answer["error"], style="red")
        else:
            self.tables[key] = (answer["rows"], answer["total"], answer["trainable"])
        self.show_preview()

    def action_classes(self) -> None:
        """Toggle the preview's classifier between the data's classes and the papers' 1,000."""
        self.table_classes = None if self.table_classes else PAPER_CLASSES
        self.show_preview()

    def action_augment(self) -> None:
        r = self.selected()
        if r is not None:
            self.notify(f"Drawing {r['name']}'s augmentations...", timeout=2)
            self.show_augmentations(r)

    @work(exclusive=True, group="augment")
    async def show_augmentations(self, r: dict) -> None:
        """`cnn-tui augment` in the helper process (it loads the data with torch), then the grid."""
        from cnn_tui.ui.screens.augment_grid import AugmentGrid

        answer = await self.describer.augment(r["path"])
        if answer is not None and "picture" in answer and self.app.screen is not self:
            shutil.rmtree(Path(answer["picture"]).parent, ignore_errors=True)  # a run started meanwhile
            return
        if answer is None or self.app.screen is not self:
            return
        if "error" in answer:
            self.notify(answer["error"], severity="error", timeout=8)
            return
        self.app.push_screen(AugmentGrid(r["name"], Path(answer["picture"]), answer.get("what", "")))

    # ------------------------------------------------------------------ keys
    def action_lr_find(self) -> None:  # preflight (issue 30): the range test in a child process
        r = self.selected()
        if r is None or optimises_an_image(r["kind"]):
            self.notify("lr-find: highlight a scratch, feature-extraction or fine-tuning recipe", severity="warning")
            return
        self.notify(f"lr-find {r['name']}: started (a few hundred steps); the answer appears here")
        self.run_worker(self._lr_find(r), exclusive=False, group="lr-find")

    async def _lr_find(self, r: dict[str, Any]) -> None:
        from cnn_tui.ui.lr_find_child import run_lr_find

        answer = await run_lr_find(Path(r["path"]), Path(getattr(self.app, "runs_dir", "runs")),
                                   tuple(self.overrides(r)))
        where = f"; run folder {answer.run_dir} (r: runs)" if answer.run_dir else ""
        self.notify(f"lr-find {r['name']}: " + (f"suggested lr {answer.suggestion}" if answer.ok
                                                 else f"no suggestion: {answer.suggestion}") + where,
                    severity="information" if answer.ok else "warning", timeout=30)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        (options.action_cursor_down if delta > 0 else options.action_cursor_up)()

    def action_start(self) -> None:
        r = self.selected()
        if r is not None:
            self.post_message(StartRecipe(Path(r["path"]), tuple(self.overrides(r))))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("choose", "processes"):
            r = self.selected()
            return r is not None and optimises_an_image(r["kind"]) == (action == "choose")
        if action == "run_model_file":
            r = self.selected()
            return r is not None and r["path"] == self.waiting_for_t
        return True

    def action_processes(self) -> None:
        from cnn_tui.ui.screens.process_count import ProcessCount

        r = self.selected()
        if r is None or optimises_an_image(r["kind"]):
            return
        try:
            from cnn_tui.recipes.loader import load_recipe

            recipe: Any = load_recipe(r["path"], self.overrides(r))[0]  # a classification kind: it has train:
            current = int(recipe.train.distributed.nproc)
        except CnnTuiError:
            current = 1

        def chosen(count: int | None) -> None:
            if count is not None:
                self.processes[r["path"]] = count  # and kept for the next start with enter
                self.show_preview()
                self.action_start()

        self.app.push_screen(ProcessCount(current), chosen)

    def action_choose(self, role: str) -> None:
        from cnn_tui.ui.recent import load_recent
        from cnn_tui.ui.screens.image_chooser import ImageChooser

        r = self.selected()
        if r is None or not optimises_an_image(r["kind"]):
            return

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            from cnn_tui.ui.recent import remember

            remember(path)
            self.chosen.setdefault(r["path"], {})[role] = path.resolve()
            self.show_preview()

        self.app.push_screen(ImageChooser(role, Path.cwd(), load_recent()), chosen)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.fill()
        self.query_one(OptionList).focus()

    def action_runs(self) -> None:
        self.post_message(ShowRuns())

    def action_edit(self) -> None:
        r = self.selected()
        if r is None:
            return
        path = Path(r["path"])
        if r["builtin"]:  # never edit the package: copy to ./recipes first
            local = Path("recipes") / path.name
            if local.resolve() != path.resolve():
                local.parent.mkdir(exist_ok=True)
                if not local.exists():
                    shutil.copyfile(path, local)
                    self.notify(f"Copied the built-in recipe to {local} to edit it there.")
                path = local
                if Path("recipes") not in self.extra_dirs:
                    self.extra_dirs.append(Path("recipes"))
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.app.suspend():
                subprocess.call([*shlex.split(editor), str(path)])
        except (OSError, Exception) as exc:  # no terminal to suspend (tests), or no editor
            self.notify(f"Could not run the editor '{editor}': {exc}", severity="error")
        self.recipes = discover(self.extra_dirs)
        self.fill(self.query_one("#filter", Input).value)

