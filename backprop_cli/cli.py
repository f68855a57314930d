"""The ``backprop`` command: run, export, inspect and check traces.

Every user error is a :class:`BackpropError`; :func:`main` prints it as one line on
standard error and exits with status 2, never with a traceback.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from backprop_cli.render import render_cmd
from backprop_cli.script import narration_options, prepare_plans, script_cmd
from backprop_core import __version__
from backprop_core.config import Config, load_config, load_preset, preset_names, preset_text
from backprop_core.errors import BackpropError, printable, report
from backprop_core.gradcheck import TOLERANCE, check
from backprop_core.io import load_trace, open_trace_writer, step_accuracy
from backprop_core.trace import LAYER_FIELDS, Step, count_recorded, run
from backprop_explain.elide import visible_indices
from backprop_explain.format import fmt

PROGRESS_THRESHOLD = 2000
"""Runs with at least this many iterations draw a progress bar (on a terminal)."""

console = Console()
err_console = Console(stderr=True)


def resolve_config(preset: str | None, config: Path | None) -> Config:
    """The config named by exactly one of ``--preset`` and ``--config``."""
    if (preset is None) == (config is None):
        raise click.UsageError("give exactly one of --preset NAME or --config FILE")
    return load_preset(preset) if preset is not None else load_config(config)  # type: ignore[arg-type]


def summary(config: Config, first_loss: float, last_loss: float, recorded: int, out: Path) -> str:
    """One paragraph: what was trained, how the loss moved, what was written.

    It needs no steps (the trace was streamed to ``out``): the first iteration's loss,
    the last recorded step's ``loss_after`` and the number of recorded steps.
    """
    c = config
    m = c.x.shape[1]
    sizes = "-".join(map(str, c.sizes))
    return (
        f"Trained {c.name or 'config'}: a {sizes} network ({', '.join(c.activations)}), "
        f"loss {c.loss}, {'with' if c.bias else 'no'} biases, learning rate {c.learning_rate:g}, "
        f"{c.iterations} iterations on {m} sample{'s' if m != 1 else ''}. "
        f"Loss {first_loss:.6g} → {last_loss:.6g}. "
        f"Recorded {recorded} iteration{'s' if recorded != 1 else ''} "
        f"(every {c.every}) into {out} ({out.stat().st_size / 1024:.1f} KiB)."
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="backprop")
def cli() -> None:
    """backprop-anim: backpropagation in matrix form, from a real training run."""


cli.add_command(render_cmd)


@cli.command("trace")
@click.option("--preset", "-p", help="A shipped preset (see `backprop presets`).")
@click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path), help="A TOML config."
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output file: .json, .npz or .csv.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=None,
    help="Record every N-th iteration (the first and last always).",
)
def trace_cmd(preset: str | None, config_path: Path | None, out: Path, every: int | None) -> None:
    """Train a network and write its trace."""
    config = resolve_config(preset, config_path)
    source = (preset and f"preset {preset}") or str(config_path)
    if every is not None:
        config = replace(config, every=every)
    recorded = count_recorded(config.iterations, config.every)
    first_loss: list[float] = []  # the first iteration's loss, once it is known
    last_loss = [float("nan")]
    # Steps and losses go to the file as they come (neither kept in memory): memory stays
    # flat in the number of iterations with --every.
    with open_trace_writer(out, config, recorded) as writer:

        def record(step: Step) -> None:
            writer.add(step)
            last_loss[0] = step.loss_after

        def add_loss(loss: float) -> None:
            writer.add_loss(loss)
            if not first_loss:
                first_loss.append(loss)

        if config.iterations >= PROGRESS_THRESHOLD and err_console.is_terminal:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("training", total=config.iterations)
                run(
                    config,
                    progress=lambda k: bar.update(task, completed=k),
                    source=source,
                    on_record=record,
                    on_loss=add_loss,
                )
        else:
            run(config, source=source, on_record=record, on_loss=add_loss)
        writer.finish()
    text = summary(config, first_loss[0], last_loss[0], recorded, out)
    console.print(printable(text), highlight=False, soft_wrap=True, markup=False)


SHOW_INDICES = "Indices count from 0 as in the video and the trace; layers from 1 (a^(0) = x)."
"""``backprop show``'s legend: the one index convention of the project (docs/trace-format.md)."""


def matrix_table(title: str, m: np.ndarray, decimals: int, limit: int = 8) -> Table:
    """A rich table of a matrix, elided to ``limit`` rows and columns with ``…`` (the
    scenes' rule, :func:`~backprop_explain.elide.visible_indices`), its row and column
    indices from 0 in a dim header and first column, so an elided entry can be located."""
    rows, cols = m.shape
    full_title = f"{title}  ({rows}×{cols})"
    table = Table(
        title=full_title,
        title_justify="left",
        min_width=len(full_title),
        header_style="dim",
    )
    shown_cols = visible_indices(cols, limit)
    table.add_column("", justify="right", style="dim")
    for j in shown_cols:
        table.add_column("…" if j is None else str(j), justify="right")
    for i in visible_indices(rows, limit):
        table.add_row(
            "…" if i is None else str(i),
            *("…" if i is None or j is None else fmt(m[i, j], decimals) for j in shown_cols),
        )
    return table


def accuracy_line(config: Config, step: Step) -> str:
    """How many samples the step's weights classify right: training set, and test set."""
    train, test = step_accuracy(config, step)
    n = config.x.shape[1]
    line = f"accuracy before the update: train {train:.1%} of {n} sample{'s' if n != 1 else ''}"
    if test is not None and config.x_test is not None:
        line += f", test {test:.1%} of {config.x_test.shape[1]}"
    return line


@cli.command("show")
@click.argument("trace_path", metavar="TRACE", type=click.Path(path_type=Path))
@click.option("--iteration", "-k", type=int, default=None, help="Iteration (default: the first).")
@click.option("--decimals", type=click.IntRange(0, 12), default=4, show_default=True)
def show_cmd(trace_path: Path, iteration: int | None, decimals: int) -> None:
    """Print one iteration's matrices as tables."""
    trace = load_trace(trace_path)
    k = trace.steps[0].iteration if iteration is None else iteration
    try:
        step = trace.step(k)
    except KeyError as exc:
        raise BackpropError(str(trace_path), "--iteration", str(exc.args[0])) from None
    c = trace.config
    console.print(
        f"[bold]{escape(printable(c.name))}[/] iteration {k}: loss {step.loss:.{decimals}f} → "
        f"{step.loss_after:.{decimals}f} after the update (η = {c.learning_rate:g})"
    )
    if c.is_classification:
        console.print(accuracy_line(c, step), highlight=False)
    console.print(SHOW_INDICES, style="dim", highlight=False)
    console.print(matrix_table("a^(0) = x", step.input, decimals))
    console.print(matrix_table("y", step.target, decimals))
    for l, layer in enumerate(step.layers, start=1):
        console.rule(f"layer {l}: {c.activations[l - 1]}")
        for f in LAYER_FIELDS:
            if f.startswith("b") or f == "db":
                if not c.bias:
                    continue
            console.print(matrix_table(f"{f}^({l})", getattr(layer, f), decimals))


@cli.command("check")
@click.option("--preset", "-p", help="A shipped preset.")
@click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path), help="A TOML config."
)
def check_cmd(preset: str | None, config_path: Path | None) -> None:
    """Compare backprop with central finite differences at the first iteration."""
    config = resolve_config(preset, config_path)
    result = check(config)
    verdict = "ok" if result.ok else "FAILED"
    console.print(
        f"{verdict}: worst relative error {result.worst:.3g} at {result.where} over "
        f"{result.count} parameters (tolerance {TOLERANCE:g})",
        highlight=False,
        soft_wrap=True,
    )
    if not result.ok:
        sys.exit(1)


@cli.command("presets")
@click.argument("name", required=False)
def presets_cmd(name: str | None) -> None:
    """List the presets, or print one preset's TOML to copy."""
    if name is not None:
        click.echo(preset_text(name), nl=False)
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("preset")
    table.add_column("description")
    for n in preset_names():
        table.add_row(escape(n), escape(printable(load_preset(n).description)))
    console.print(table)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM as an exception: ``finally`` blocks remove temporary files, as on Ctrl-C."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point: run the CLI, turning user errors into one line and exit status 2."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(standalone_mode=False)
    except click.UsageError as exc:
        # One line, like every other bad input: click's default repeats the whole usage.
        command = exc.ctx.command_path if exc.ctx is not None else "backprop"
        report(f"{exc.format_message()} (see `{command} --help`)", program=command)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BackpropError as exc:
        report(exc)


# --- handouts and lectures (issue 6) -------------------------------------------------------


@cli.command("handout")
@click.argument("trace_path", metavar="TRACE", type=click.Path(path_type=Path))
@click.option(
    "--iteration", "-k", type=int, default=None, help="Iteration (default: the first recorded)."
)
@click.option(
    "--decimals",
    type=click.IntRange(0, 8),
    default=3,
    show_default=True,
    help="Digits after the point, as in the video.",
)
@click.option("--blank", is_flag=True, help="Leave the answers empty: an exercise sheet.")
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output file: .md (Markdown) or .tex (LaTeX).",
)
def handout_cmd(
    trace_path: Path, iteration: int | None, decimals: int, blank: bool, out: Path
) -> None:
    """Write one iteration's worked solution (or, with --blank, its exercise sheet)."""
    from backprop_lecture.handout import cells, write_handout

    trace = load_trace(trace_path)
    handout = write_handout(trace, out, iteration, decimals, blank, source=str(trace_path))
    kind = "exercise sheet" if blank else "worked solution"
    numbers = sum(1 for c in cells(handout) if c.kind == "number")
    console.print(
        printable(
            f"Wrote the {kind} of iteration {handout.iteration} ({numbers} numbers) to {out}."
        ),
        highlight=False,
        markup=False,
    )


@cli.command("lecture")
@click.argument("lecture_file", metavar="[FILE]", required=False, type=click.Path(path_type=Path))
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "p", "k"]),
    default="l",
    show_default=True,
    help="manim's quality: l 480p15, m 720p30, h 1080p60, p 1440p60, k 2160p60.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Parts rendered at a time (default: the number of cores).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=Path("media/lecture"),
    show_default=True,
    help="Output folder.",
)
@click.option("--force", is_flag=True, help="Re-render every part, ignoring the part cache.")
@narration_options
@click.option(
    "--allow-outside-scenes",
    is_flag=True,
    help="Run scene files outside the lecture file's folder (scenes are Python programs: "
    "only for lecture files you trust).",
)
def lecture_cmd(
    lecture_file: Path | None,
    quality: str,
    jobs: int | None,
    out: Path,
    force: bool,
    voice: str | None,
    script: Path | None,
    allow_outside_scenes: bool,
) -> None:
    """Render a lecture's parts with manim and join them: video, subtitles, chapters,
    stills and a preview GIF. Without FILE, the default lecture."""
    import backprop_lecture as lec

    lecture = lec.load_lecture(lecture_file, allow_outside_scenes=allow_outside_scenes)
    lec.check_output(out)
    plans = prepare_plans(lecture.parts, voice, script, out / ".cache")
    for name in lecture.skipped:
        err_console.print(
            printable(f"note: scene {name!r} does not exist yet; left out"),
            highlight=False,
            markup=False,
        )
    with lec.ProgressBoard(lecture, err_console) as board:
        result = lec.build_lecture(
            lecture, out, quality, jobs, on_event=board.event, force=force, plans=plans
        )
    for line in lec.iter_outputs(result):
        console.print(line, highlight=False, markup=False)
    if result.failed:
        names = ", ".join(r.part.name for r in result.failed)
        err_console.print(
            f"backprop: {len(result.failed)} part(s) failed ({names}); finished parts are in "
            f"{out / 'parts'}; {out / 'lecture.mp4'} was not updated",
            highlight=False,
            markup=False,
        )
        sys.exit(1)
    console.print(
        f"Wrote {out / 'lecture.mp4'} ({result.join}), lecture.srt, chapters.txt, stills/, "
        f"slides/, handouts/ and preview.gif in {result.seconds:.1f} s.",
        highlight=False,
        markup=False,
    )


@cli.command("review")
@click.argument("video", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def review_cmd(video: Path) -> None:
    """Report a rendered VIDEO's dead air and half-empty frames, with their times.

    Beats come from manim's section index beside the video (`--save_sections`) or its
    `.srt`. Exit status 0 when nothing is reported, 1 when something is.
    """
    from backprop_lecture.review import review

    findings = review(video)
    for f in findings:
        console.print(f.line(), highlight=False, markup=False)
    if findings:
        console.print(f"{len(findings)} finding(s) in {video}", highlight=False, markup=False)
        sys.exit(1)
    console.print(f"{video}: nothing to report", highlight=False, markup=False)


cli.add_command(script_cmd)
