"""Voices for the cues: a lecturer's recordings or the offline draft voice, before rendering.

``--voice DIR`` reads one recording per cue id from ``DIR``: the file name is the id with
every ``/`` written ``__`` and an audio suffix, e.g. ``chain/chain-rule/1`` is
``DIR/chain__chain-rule__1.wav`` (or ``.flac``, ``.mp3``, ``.m4a``, ``.ogg``). A cue without
a recording keeps its reading time (listed once). ``--voice espeak`` synthesises every cue
with espeak-ng (offline, Debian's ``espeak-ng``).

Every voice is decoded with PyAV, normalised to :data:`~backprop_lecture.audio.TARGET_LUFS`
and written as a 48 kHz WAV under ``CACHE/voice/``, named by the hash of what it came from,
so an unchanged recording is decoded once. The *voice plan* of a part, a JSON file the
scene base reads through ``BACKPROP_CUES`` (:mod:`backprop_anim.cues`), gives each cue its
text, its WAV and its duration; the scene starts the sound and the subtitle at the cue's
start and holds the picture until the voice ends. Every error (a missing folder, an
unreadable recording, two recordings of one cue) is one line, before anything renders.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backprop_core.errors import BackpropError
from backprop_core.files import write_text_atomically
from backprop_lecture.audio import RATE, TARGET_LUFS, decode, normalise, write_wav
from backprop_lecture.cache import PartNarration
from backprop_lecture.narration import VOICE, WORDS_PER_MINUTE, check_espeak, espeak_wav
from backprop_lecture.spec import Part

ESPEAK = "espeak"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
PLAN_FORMAT = "voice-plan-v1"


def recording_name(cue_id: str) -> str:
    """The file stem of a cue's recording: ``chain/chain-rule/1`` -> ``chain__chain-rule__1``."""
    return cue_id.replace("/", "__")


@dataclass(frozen=True)
class Voiced:
    """A cue's voice: its normalised WAV and duration (``None``: no voice, reading time)."""

    id: str
    text: str
    audio: Path | None
    duration: float | None
    source: str
    """What the audio came from: a recording's path, ``espeak`` or ``""``."""


def recordings(folder: Path) -> dict[str, Path]:
    """The recordings in ``folder`` by cue id; a missing folder or two recordings of one
    cue are one-line errors."""
    if not folder.is_dir():
        raise BackpropError(
            str(folder), "--voice", "no such folder; give a folder of recordings or `espeak`"
        )
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        cue_id = path.stem.replace("__", "/")
        if cue_id in found:
            raise BackpropError(
                str(path), "--voice", f"a second recording of cue {cue_id} ({found[cue_id].name})"
                "; keep one",
            )  # fmt: skip
        found[cue_id] = path
    return found


def _cached(store: Path, digest: str, make: Callable[[], Path | None]) -> tuple[Path, float]:
    """The normalised WAV for ``digest`` in ``store``, made by decoding ``make()``'s file."""
    wav = store / f"{digest}.wav"
    if not wav.is_file():
        source = make()
        assert source is not None
        track, _gain = normalise(decode(source, "--voice"))
        store.mkdir(parents=True, exist_ok=True)
        write_wav(wav, track)
    import wave

    with wave.open(str(wav)) as w:
        return wav, w.getnframes() / RATE


def _hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in (PLAN_FORMAT.encode(), str(TARGET_LUFS).encode(), *parts):
        h.update(len(p).to_bytes(8, "big") + p)
    return h.hexdigest()[:24]


def voice_cues(
    cues: Sequence[tuple[str, str]],
    voice: str | None,
    store: Path,
    note: Callable[[str], None] = lambda s: None,
) -> list[Voiced]:
    """Each ``(id, text)`` cue with its voice from ``voice`` (a folder, ``espeak`` or
    ``None``), decoded and normalised into ``store``; ``note`` hears, once, which cues keep
    their reading time and which recordings name no cue."""
    if voice is None:
        return [Voiced(i, t, None, None, "") for i, t in cues]
    out: list[Voiced] = []
    if voice == ESPEAK:
        check_espeak()
        with tempfile.TemporaryDirectory() as tmp:
            for n, (cue_id, text) in enumerate(cues):
                digest = _hash(b"espeak", VOICE.encode(), str(WORDS_PER_MINUTE).encode(),
                               text.encode())  # fmt: skip
                target = Path(tmp) / f"{n}.wav"
                wav, seconds = _cached(
                    store,
                    digest,
                    lambda t=text, w=target: espeak_wav(t, w),  # type: ignore[misc]
                )
                out.append(Voiced(cue_id, text, wav, seconds, ESPEAK))
        return out
    found = recordings(Path(voice))
    missing = []
    for cue_id, text in cues:
        path = found.get(cue_id)
        if path is None:
            missing.append(cue_id)
            out.append(Voiced(cue_id, text, None, None, ""))
            continue
        digest = _hash(b"recording", path.read_bytes())
        wav, seconds = _cached(store, digest, lambda p=path: p)  # type: ignore[misc]
        out.append(Voiced(cue_id, text, wav, seconds, str(path)))
    ids = {i for i, _ in cues}
    stray = sorted(p.name for i, p in found.items() if i not in ids)
    if missing:
        names = ", ".join(recording_name(i) for i in missing)
        note(f"{len(missing)} cue(s) have no recording in {voice} and keep their reading time: "
             f"{names}")  # fmt: skip
    if stray:
        note(f"recording(s) in {voice} that name no cue (ignored): {', '.join(stray)}")
    return out


def write_plan(voiced: Sequence[Voiced], path: Path) -> bytes:
    """Write a part's voice plan (read by the scene through ``BACKPROP_CUES``); returns
    the bytes the part's cache key adds: every cue's text and its voice's bytes."""
    plan: dict[str, dict[str, object]] = {}
    key: dict[str, list[str]] = {}
    for v in voiced:
        entry: dict[str, object] = {"text": v.text}
        if v.audio is not None:
            entry.update(audio=str(v.audio.resolve()), duration=v.duration)
        plan[v.id] = entry
        # The WAV's name is the hash of its source's bytes (or of espeak's input).
        key[v.id] = [v.text, v.audio.stem if v.audio is not None else ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps({"format": PLAN_FORMAT, "cues": plan}, indent=1))
    return json.dumps(key, sort_keys=True).encode()


def plan_summary(voiced: Mapping[str, Sequence[Voiced]]) -> str:
    """``N cues: V voiced (S s of speech), R at reading time``."""
    cues = [v for vs in voiced.values() for v in vs]
    spoken = [v for v in cues if v.duration is not None]
    seconds = sum(v.duration or 0.0 for v in spoken)
    return (
        f"{len(cues)} cues: {len(spoken)} voiced ({seconds:.1f} s of speech), "
        f"{len(cues) - len(spoken)} at reading time"
    )


def prepare_narration(
    parts: Sequence[Part],
    voice: str | None,
    script: Path | None,
    cache: Path,
    cwd: Path,
    note: Callable[[str], None] = lambda s: None,
    values: Callable[[Part], tuple[Callable[[str], float], int]] | None = None,
) -> dict[int, PartNarration]:
    """Every part's voice plan, by part index, before anything renders: the cues collected
    from the scenes, their texts from ``script``, their voices from ``voice``. Without a
    voice and a script, no plans (parts render as they always did). ``values`` evaluates a
    part's placeholders (:func:`backprop_lecture.build.part_values`)."""
    from backprop_lecture.script import apply_script, collect_cues, read_script

    if voice is None and script is None:
        return {}
    cues = read_script(script) if script is not None else None
    collected = [(p, collect_cues(p, cache, cwd)) for p in parts]
    if cues is not None:
        if values is None:
            raise ValueError("a script needs `values` (backprop_lecture.build.part_values)")
        edited = apply_script(collected, cues, str(script), values)
        collected = [(p, list(c)) for p, c in edited]
    everything = [(c.id, c.text) for _, part_cues in collected for c in part_cues]
    voiced = iter(voice_cues(everything, voice, cache / "voice", note))
    plans: dict[int, PartNarration] = {}
    for part, part_cues in collected:
        mine = [next(voiced) for _ in part_cues]
        plan = cache / "voice" / "plans" / f"{part.name}.json"
        plans[part.index] = PartNarration(plan.resolve(), write_plan(mine, plan), tuple(mine))
    return plans
