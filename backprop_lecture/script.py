r"""The narration script: every cue of a scene or lecture, for the lecturer to edit and record.

``backprop script`` writes it as TOML, one table per cue::

    [[cue]]
    id = "chain/chain-rule/0"
    text = "The chain rule multiplies the three slopes."
    duration = 4.2      # seconds it lasts now: its voice's, or its reading time

The lecturer edits the texts (and may write a number as a *placeholder* naming a trace
quantity, ``{W1[0,0]}`` or ``{loss}``, formatted as on screen; ``{{`` and ``}}`` are
braces), records one file per id (:mod:`backprop_lecture.voice`) and renders with
``--script FILE``: every text replaces its cue's, and subtitles follow. The ids must be
exactly the scene's: an unknown or missing id, an unknown placeholder or a malformed
file is a one-line error before anything renders. ``duration`` is not read back.

A scene's cues are collected by running it with manim's ``--dry_run`` (construct runs and
typesets its TeX, nothing is drawn or written) and ``BACKPROP_CUES_OUT``
(:mod:`backprop_anim.cues`), in the part's media folder so the render reuses that TeX; the
list is cached per part key, so a second run does not run the scene again.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from backprop_core.errors import BackpropError
from backprop_core.files import write_text_atomically
from backprop_lecture.cache import part_key, project_root
from backprop_lecture.render import failure_reason, part_environment
from backprop_lecture.spec import Part

CUE_KEYS = ("id", "text", "duration")
COLLECT_ENV = "BACKPROP_CUES_OUT"
PLAN_ENV = "BACKPROP_CUES"


WORDS_PER_SECOND = 2.6
MIN_READING_SECONDS = 2.0


def reading_time(text: str) -> float:
    """A cue's length without a voice: the kit's reading time (``backprop_anim.cues``,
    which this package may not import; a test checks that the two agree)."""
    return max(MIN_READING_SECONDS, len(text.split()) / WORDS_PER_SECOND)


@dataclass(frozen=True)
class ScriptCue:
    """One cue of a script: its id, text and (when written) its current duration."""

    id: str
    text: str
    duration: float | None = None


def collect_cues(part: Part, cache: Path, cwd: Path) -> list[ScriptCue]:
    """The cues ``part``'s scene says, from a dry run of it (cached by the part's key)."""
    key = part_key(part, "l", cwd)
    entry = cache / "cues" / f"{part.name}-{key}.json"
    if not entry.is_file():
        entry.parent.mkdir(parents=True, exist_ok=True)
        out = entry.with_name(f".{entry.name}.run.json")
        env = {**part_environment(part), COLLECT_ENV: str(out.resolve())}
        # The part's own media folder: the TeX the dry run typesets is then cached for
        # the part's render (render.render_part keeps manim's caches there).
        media = (cache / "work" / part.name).resolve()
        done = subprocess.run(
            [sys.executable, "-m", "manim", "render", "--dry_run", "-ql", "-v", "WARNING",
             "--progress_bar", "none", "--media_dir", str(media), str(part.scene)],
            cwd=project_root(part.scene, cwd),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0 or not out.is_file():
            log = (done.stdout + done.stderr).decode("utf-8", "replace")
            raise BackpropError(
                str(part.scene), None, f"could not collect its cues: {failure_reason(log)}"
            )
        out.replace(entry)
    cues = json.loads(entry.read_text("utf-8"))["cues"]
    return [ScriptCue(c["id"], c["text"], round(float(c["duration"]), 2)) for c in cues]


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string (same escapes), kept on one line.
    return json.dumps(text, ensure_ascii=False)


def script_text(cues: Sequence[ScriptCue], source: str) -> str:
    """The TOML script of ``cues`` (see the module docstring)."""
    lines = [
        f"# Narration script of {source}: one [[cue]] per cue, in order.",
        "# Edit `text` (a trace quantity as {W1[0,0]} or {loss} is shown as on screen),",
        "# record DIR/<id with / as __>.wav (or .flac .mp3 .m4a .ogg) and render with",
        "# --script THIS_FILE --voice DIR. `duration` is the cue's length now (not read back).",
        "",
    ]
    for c in cues:
        # A scene's own braces are written doubled, so the text reads back unchanged.
        text = c.text.replace("{", "{{").replace("}", "}}")
        lines += ["[[cue]]", f"id = {_toml_string(c.id)}", f"text = {_toml_string(text)}"]
        if c.duration is not None:
            lines.append(f"duration = {round(c.duration, 2)}")
        lines.append("")
    return "\n".join(lines)


def write_script(cues: Sequence[ScriptCue], path: Path, source: str) -> None:
    write_text_atomically(path, script_text(cues, source))


def read_script(path: Path) -> list[ScriptCue]:
    """A script's cues, strictly: every mistake is a one-line error naming the field."""
    where = str(path)
    if not path.is_file():
        raise BackpropError(where, None, "file not found; write one with `backprop script`")
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BackpropError(where, None, f"not valid TOML ({exc})") from None
    for key in doc:
        if key != "cue":
            raise BackpropError(where, key, "unknown setting; a script has only [[cue]] tables")
    raw = doc.get("cue")
    if not isinstance(raw, list) or not raw:
        raise BackpropError(where, "cue", "missing or empty; write it with `backprop script`")
    cues: list[ScriptCue] = []
    seen: set[str] = set()
    for i, c in enumerate(raw):
        field = f"cue[{i}]"
        if not isinstance(c, dict):
            raise BackpropError(where, field, "must be a table ([[cue]])")
        for key in c:
            if key not in CUE_KEYS:
                raise BackpropError(
                    where, f"{field}.{key}", f"unknown setting; a cue has {', '.join(CUE_KEYS)}"
                )
        for key in ("id", "text"):
            if not isinstance(c.get(key), str) or not c[key].strip():
                raise BackpropError(where, f"{field}.{key}", "missing; must be text")
        if c["id"] in seen:
            raise BackpropError(where, f"{field}.id", f"{c['id']} appears twice; keep one")
        seen.add(c["id"])
        cues.append(ScriptCue(c["id"], c["text"]))
    return cues


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def fill_placeholders(
    text: str, value: Callable[[str], float], decimals: int, where: str, field: str
) -> str:
    """``text`` with every ``{expression}`` replaced by ``fmt(value(expression), decimals)``;
    an expression ``value`` cannot evaluate is a one-line error."""
    from backprop_explain.format import fmt

    def replace(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if m.group(1) is None:
            raise BackpropError(where, field, f"a lone {token!r}; write {token * 2} for a brace")
        expression = m.group(1).strip()
        try:
            return fmt(value(expression), decimals)
        except (NameError, ValueError, SyntaxError, IndexError, TypeError, KeyError) as exc:
            raise BackpropError(
                where, field,
                f"unknown placeholder {{{expression}}} ({type(exc).__name__}: {exc}); name a "
                "trace quantity such as {W1[0,0]}, {a1[0,0]} or {loss}",
            ) from None  # fmt: skip

    return _PLACEHOLDER.sub(replace, text)


def apply_script(
    collected: Sequence[tuple[Part, Sequence[ScriptCue]]],
    script: Sequence[ScriptCue],
    source: str,
    values: Callable[[Part], tuple[Callable[[str], float], int]],
) -> list[tuple[Part, list[ScriptCue]]]:
    """Each part's cues with the script's texts (placeholders filled); an id of the script
    that no part says, or a cue the script leaves out, is a one-line error."""
    texts = {c.id: c.text for c in script}
    index = {c.id: i for i, c in enumerate(script)}
    said = {c.id for _, cues in collected for c in cues}
    unknown = [c.id for c in script if c.id not in said]
    if unknown:
        raise BackpropError(
            source, f"cue[{index[unknown[0]]}].id",
            f"unknown cue {unknown[0]}" + (f" (and {len(unknown) - 1} more)" if unknown[1:]
            else "") + "; export the ids again with `backprop script`",
        )  # fmt: skip
    missing = [c.id for _, cues in collected for c in cues if c.id not in texts]
    if missing:
        raise BackpropError(
            source, "cue",
            f"cue {missing[0]} is missing" + (f" (and {len(missing) - 1} more)" if missing[1:]
            else "") + "; add it or export the script again with `backprop script`",
        )  # fmt: skip
    out: list[tuple[Part, list[ScriptCue]]] = []
    for part, cues in collected:
        value, decimals = values(part)
        filled = []
        for c in cues:
            field = f"cue[{index[c.id]}].text"
            text = fill_placeholders(texts[c.id], value, decimals, source, field)
            filled.append(ScriptCue(c.id, text, c.duration))
        out.append((part, filled))
    return out
