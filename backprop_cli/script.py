"""``backprop script`` and the narration options (``--voice``, ``--script``) of the commands
that render (``backprop lecture``; :func:`narration_options` adds them to any command)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _voice(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == "espeak":
        return value
    if not Path(value).is_dir():
        raise click.BadParameter(
            f"{value!r} is not a folder of recordings; give a folder or `espeak`"
        )
    return value


def narration_options(command: F) -> F:
    """Add ``--voice DIR|espeak``, ``--script FILE`` and ``--narrate`` (the same as
    ``--voice espeak``) to a click command; it receives ``voice`` (``None``, ``"espeak"`` or a
    folder) and ``script`` (``None`` or a path). See ``docs/narration.md``."""
    command = click.option(
        "--narrate",
        "voice",
        flag_value="espeak",
        hidden=True,
        help="The same as --voice espeak.",
    )(command)
    command = click.option(
        "--script",
        "script",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="An edited narration script (from `backprop script`): its texts become the cues'.",
    )(command)
    command = click.option(
        "--voice",
        "voice",
        default=None,
        callback=_voice,
        metavar="DIR|espeak",
        help="The cues' voices: a folder of recordings, one per cue id (docs/narration.md), "
        "or `espeak` (an offline draft voice). The picture waits for every cue's voice.",
    )(command)
    return command


def say(message: str) -> None:
    click.echo(f"note: {message}", err=True)


def prepare_plans(
    parts: Sequence[Any], voice: str | None, script: Path | None, cache: Path
) -> dict[int, Any]:
    """The parts' voice plans for ``--voice`` and ``--script`` (none without either), made
    before anything renders: every bad input is a one-line error here."""
    if voice is None and script is None:
        return {}
    from backprop_lecture.build import part_values
    from backprop_lecture.voice import plan_summary, prepare_narration

    plans = prepare_narration(parts, voice, script, cache, Path.cwd(), say, part_values)
    say(plan_summary({str(i): p.voiced for i, p in plans.items()}))
    return plans


@click.command("script")
@click.argument("source", metavar="SCENE|LECTURE.toml")
@click.option(
    "-o", "--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="The script to write (TOML).",
)  # fmt: skip
@click.option("--preset", "-p", help="A shipped preset (a scene's default otherwise).")
@click.option("--config", "-c", "config", type=click.Path(path_type=Path), help="A TOML config.")
@click.option("--trace", "trace", type=click.Path(path_type=Path), help="A .json or .npz trace.")
@click.option("--iteration", "-k", type=click.IntRange(min=1), default=None)
@click.option("--decimals", type=click.IntRange(0, 8), default=None)
@click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("media/lecture/.cache"),
    show_default=True,
    help="Where collected cues and decoded voices are kept (`backprop lecture`'s cache).",
)
@narration_options
def script_cmd(
    source: str,
    out: Path,
    preset: str | None,
    config: Path | None,
    trace: Path | None,
    iteration: int | None,
    decimals: int | None,
    cache: Path,
    voice: str | None,
    script: Path | None,
) -> None:
    """Write every narration cue of a SCENE (a scene file or a name in scenes/) or of a
    lecture file: its id, its text and its duration now (its voice's with --voice), for
    the lecturer to edit, record and pass back with --script."""
    from backprop_core.errors import BackpropError
    from backprop_lecture.build import part_values
    from backprop_lecture.script import ScriptCue, collect_cues, reading_time, write_script
    from backprop_lecture.spec import Part, load_lecture
    from backprop_lecture.voice import prepare_narration

    cwd = Path.cwd()
    if source.endswith(".toml"):
        if any(v is not None for v in (preset, config, trace, iteration, decimals)):
            raise click.UsageError("trace options go with a SCENE; a lecture file sets its own")
        parts = load_lecture(source, cwd).parts
    else:
        if sum(v is not None for v in (preset, config, trace)) > 1:
            raise click.UsageError("give at most one of --preset, --config and --trace")
        scene = Path(source) if source.endswith(".py") else cwd / "scenes" / f"{source}.py"
        if not scene.is_file():
            raise BackpropError(source, None, f"no scene file {scene}; name a scene or a .py file")
        for path, name in ((config, "--config"), (trace, "--trace")):
            if path is not None and not path.is_file():
                raise BackpropError(str(path), name, "file not found")
        parts = (
            Part(
                1, scene.resolve(), scene.stem,
                trace.resolve() if trace else None, preset,
                config.resolve() if config else None, iteration, decimals,
            ),
        )  # fmt: skip
    plans = prepare_narration(parts, voice, script, cache, cwd, say, part_values)
    if not plans:  # neither a voice nor a script: the scenes' own cues, at reading time
        cues = [c for p in parts for c in collect_cues(p, cache, cwd)]
    else:
        cues = [
            ScriptCue(v.id, v.text, v.duration if v.duration is not None else reading_time(v.text))
            for p in parts
            for v in plans[p.index].voiced
        ]
    write_script(cues, out, source)
    click.echo(f"Wrote {len(cues)} cues of {source} to {out}.")
