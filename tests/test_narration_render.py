"""Narration end to end: a lecturer's script and recordings make the picture wait.

A tiny scene (written here, deriving from TraceScene) says four cues; espeak-ng records
three of them at known lengths (one much longer than its animations, one shorter, one in
each of wav, flac and mp3) and one has no recording. The lecture is rendered at ``-ql``
and its audio and video are decoded: every voice lies in its own cue's slot, at its own
length, starting with its subtitle; subtitles never overlap; every output has sound.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from test_narration_script import encode

from backprop_anim.cues import CUE_GAP
from backprop_cli.cli import cli
from backprop_core import BackpropError
from backprop_lecture import audio, narration, script
from backprop_lecture.build import build_lecture
from backprop_lecture.spec import load_lecture
from backprop_lecture.timeline import parse_srt

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng"),
]

ROOT = Path(__file__).resolve().parents[1]
FRAME = 1 / 15  # -ql

SCENE = """
from manim import Circle, Create, FadeIn, FadeOut, Square, Triangle

from backprop_anim.scene import TraceScene


class Talk(TraceScene):
    def construct(self):
        self.beat("first", "A short opening.")
        self.play(Create(Circle()), run_time=1)
        with self.cue("Under the square.", "square"):
            self.play(Create(Square()), run_time=3)
        self.beat("second", "Nothing is recorded for this one.")
        self.play(FadeIn(Triangle()), run_time=1)
        with self.cue("The last cue."):
            self.play(FadeOut(*self.mobjects), run_time=0.5)
        self.finish_beats()
"""

EDITED = {
    # id: (new text, recording suffix or None)
    "talk/first/0": (
        "This opening is spoken at length, much longer than the circle it talks about, "
        "so the picture has to wait for the voice before the square appears.",
        ".wav",
    ),
    "talk/first/square": ("A square.", ".flac"),
    "talk/second/0": ("Nobody recorded this cue, so it keeps its reading time.", None),
    "talk/second/1": (
        "And the last cue is long again: the loss was {loss}, and the fade is quick.",
        ".mp3",
    ),
}


def loud(track: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Times (s) of the samples louder than ``threshold``."""
    return np.flatnonzero(np.abs(track) > threshold) / audio.RATE


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("narrated")
    (tmp / "talk.py").write_text(SCENE, "utf-8")
    (tmp / "l.toml").write_text('title = "t"\n[[parts]]\nscene = "talk.py"\n', "utf-8")
    out = tmp / "out"
    # 1. Export the script.
    exported = tmp / "script.toml"
    runner = CliRunner()
    args = ["script", str(tmp / "l.toml"), "-o", str(exported), "--cache", str(out / ".cache")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    cues = script.read_script(exported)
    assert [c.id for c in cues] == list(EDITED)
    # 2. Edit it and record the cues (one left out).
    edited = tmp / "edited.toml"
    # As a lecturer edits it: the texts typed in, placeholders and all.
    edited.write_text(
        "".join(f"[[cue]]\nid = {json.dumps(c.id)}\ntext = {json.dumps(EDITED[c.id][0])}\n"
                for c in cues),
        "utf-8",
    )  # fmt: skip
    voice = tmp / "voice"
    voice.mkdir()
    sources: dict[str, np.ndarray] = {}
    for cue_id, (text, suffix) in EDITED.items():
        if suffix is None:
            continue
        spoken = text.replace("{loss}", "zero point four")
        # The opening is read slowly: longer than its reading time, so only its voice
        # can make the picture wait that long.
        slow = 110 if cue_id == "talk/first/0" else narration.WORDS_PER_MINUTE
        wav = narration.espeak_wav(spoken, tmp / "espeak.wav", slow)
        track = audio.decode(wav)
        sources[cue_id] = track
        encode(track, voice / f"{cue_id.replace('/', '__')}{suffix}")
    # 3. Render.
    lec = load_lecture(tmp / "l.toml", cwd=ROOT)
    built = build_lecture(lec, out, "l", jobs=1, cwd=ROOT, voice=str(voice), script=edited)
    assert not built.failed, [r.reason for r in built.failed]
    return {"out": out, "result": built, "sources": sources, "voice": voice, "lec": lec}


def test_subtitles_are_the_edited_cues_and_never_overlap(lecture: dict[str, object]) -> None:
    out = lecture["out"]
    assert isinstance(out, Path)
    subs = parse_srt((out / "lecture.srt").read_text("utf-8"))
    texts = [t for t, _ in EDITED.values()]
    assert [s.text for s in subs][:2] == texts[:2]
    assert subs[2].text == texts[2]
    assert subs[3].text.startswith("And the last cue is long again: the loss was 0.")
    assert "{" not in subs[3].text
    for a, b in itertools.pairwise(subs):
        assert a.end <= b.start + 1e-3
    # The unrecorded cue lasts its reading time.
    assert subs[2].end - subs[2].start == pytest.approx(script.reading_time(texts[2]), abs=2e-3)


def test_every_voice_lies_in_its_slot_at_its_own_length(lecture: dict[str, object]) -> None:
    out, sources = lecture["out"], lecture["sources"]
    assert isinstance(out, Path) and isinstance(sources, dict)
    subs = parse_srt((out / "lecture.srt").read_text("utf-8"))
    track = audio.decode(out / "lecture.mp4")
    with av.open(str(out / "lecture.mp4")) as c:
        v = c.streams.video[0]
        video_seconds = float(v.frames / v.average_rate)
    assert len(track) / audio.RATE == pytest.approx(video_seconds, abs=FRAME)
    ends = [s.start for s in subs[1:]] + [video_seconds]
    heard = loud(track)
    for (cue_id, _), sub, end in zip(EDITED.items(), subs, ends, strict=True):
        in_slot = heard[(heard >= sub.start - FRAME) & (heard < end)]
        if cue_id not in sources:
            assert not len(in_slot), f"{cue_id} has no recording but its slot is not silent"
            continue
        # Loud samples of the source (normalised: compare shapes, not levels).
        source, _gain = audio.normalise(sources[cue_id])
        src = loud(source)
        assert len(in_slot)
        onset, offset = in_slot[0], in_slot[-1]
        # Speech starts with its subtitle (plus the recording's own lead-in) ...
        assert onset == pytest.approx(sub.start + src[0], abs=FRAME), cue_id
        # ... is neither sped up nor cut ...
        assert offset - onset == pytest.approx(src[-1] - src[0], abs=FRAME), cue_id
        # ... and ends before the next cue starts.
        assert offset < end, cue_id
    # A voiced cue lasts its voice: its subtitle is as long as the recording; when the
    # voice outlasts the animations the next cue starts a gap after it, and when the
    # animations outlast the voice they keep their pace (3 s for the square).
    for (cue_id, _), sub in zip(EDITED.items(), subs, strict=True):
        if cue_id in sources:
            seconds = len(sources[cue_id]) / audio.RATE
            assert sub.end - sub.start == pytest.approx(seconds, abs=2e-3), cue_id
    assert subs[0].end - subs[0].start > script.reading_time(EDITED["talk/first/0"][0]) + 1
    assert subs[1].start == pytest.approx(subs[0].end + CUE_GAP, abs=FRAME)
    assert subs[2].start == pytest.approx(subs[1].start + 3.0, abs=FRAME)
    # Nothing is heard outside the cues' slots (every loud sample was in a voiced slot).
    voiced = [
        (s.start - FRAME, e) for (i, _), s, e in zip(EDITED.items(), subs, ends, strict=True)
        if i in sources
    ]  # fmt: skip
    assert all(any(a <= t < b for a, b in voiced) for t in heard[:: audio.RATE // 100])


def test_every_output_has_sound_and_durations_add_up(lecture: dict[str, object]) -> None:
    out, result = lecture["out"], lecture["result"]
    assert isinstance(out, Path)
    (part,) = result.results  # type: ignore[attr-defined]
    media = part.media
    assert sum(s.frames for s in media.sections) == media.frames
    assert len(media.sections) == 2
    for clip in [media.folder / "sections" / s.video for s in media.sections]:
        with av.open(str(clip)) as c:
            assert c.streams.audio, f"{clip} has no audio"
            a = c.streams.audio[0]
            assert float(a.duration * a.time_base) == pytest.approx(
                float(c.streams.video[0].frames / c.streams.video[0].average_rate), abs=0.05
            )
    # Each clip's sound is its own slice of the part's: the same speech at the same times.
    whole = loud(audio.decode(media.video))
    start = 0.0
    for s in media.sections:
        seconds = s.frames / float(media.fps)
        clip = loud(audio.decode(media.folder / "sections" / s.video)) + start
        mine = whole[(whole >= start) & (whole < start + seconds)]
        assert len(clip) and len(mine)
        assert clip[0] == pytest.approx(mine[0], abs=FRAME)
        assert clip[-1] == pytest.approx(mine[-1], abs=FRAME)
        start += seconds
    for f in [out / "lecture.mp4", out / "parts" / f"{part.part.name}.mp4"]:
        with av.open(str(f)) as c:
            assert c.streams.audio, f"{f} has no audio"
    slides = sorted((out / "slides").rglob("*.mp4"))
    assert slides
    for f in slides:
        with av.open(str(f)) as c:
            assert c.streams.audio, f"{f} has no audio"
    with av.open(str(out / "lecture.mp4")) as c:
        v = c.streams.video[0]
        assert v.frames == media.frames


def test_re_recording_one_cue_re_renders_its_part(lecture: dict[str, object]) -> None:
    out, voice, lec = lecture["out"], lecture["voice"], lecture["lec"]
    assert isinstance(out, Path) and isinstance(voice, Path)
    edited = out.parent / "edited.toml"
    again = build_lecture(lec, out, "l", jobs=1, cwd=ROOT, voice=str(voice), script=edited)  # type: ignore[arg-type]
    assert [r.status for r in again.results] == ["cached"]
    flac = voice / "talk__first__square.flac"
    encode(audio.decode(narration.espeak_wav("A square, again.", out.parent / "e.wav")), flac)
    again = build_lecture(lec, out, "l", jobs=1, cwd=ROOT, voice=str(voice), script=edited)  # type: ignore[arg-type]
    assert [r.status for r in again.results] == ["rendered"]


def test_unreadable_audio_stops_before_rendering(lecture: dict[str, object]) -> None:
    out, voice, lec = lecture["out"], lecture["voice"], lecture["lec"]
    assert isinstance(out, Path) and isinstance(voice, Path)
    bad = voice.parent / "bad-voice"
    shutil.copytree(voice, bad)
    (bad / "talk__second__0.m4a").write_bytes(b"not audio at all")
    fresh = out.parent / "fresh"
    with pytest.raises(BackpropError, match=r"talk__second__0\.m4a: --voice: not readable audio"):
        build_lecture(lec, fresh, "l", jobs=1, cwd=ROOT, voice=str(bad))  # type: ignore[arg-type]
    assert not (fresh / ".cache" / "parts").exists()
