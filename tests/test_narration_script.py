"""Narration without rendering: the script format, placeholders, voice folders, loudness,
the voice plan in the part key, and bad input reported before anything renders."""

from __future__ import annotations

import math
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from backprop_cli.cli import cli
from backprop_core import BackpropError, load_preset, run
from backprop_lecture import audio, script, voice
from backprop_lecture.cache import part_key
from backprop_lecture.spec import Part

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng")

CUES = [
    script.ScriptCue("tiny/one/0", 'Say "hi" — naïvely {{literally}}.', 2.0),
    script.ScriptCue("tiny/one/square", "A square.\nTwo lines.", 3.08),
    script.ScriptCue("tiny/two/0", "Bye.", None),
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


# -- the script file ---------------------------------------------------------------------


def test_script_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    script.write_script(CUES, path, "tiny.py")
    read = script.read_script(path)
    assert [c.id for c in read] == [c.id for c in CUES]
    assert "duration = 3.08" in path.read_text("utf-8")
    # Texts come back unchanged, a scene's own braces included (written doubled).
    said = [(part_for(tmp_path), CUES)]
    (back,) = script.apply_script(said, read, str(path), lambda p: ((lambda e: 0.0), 3))
    assert [c.text for c in back[1]] == [c.text for c in CUES]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[cue]]\nid = 'a'\ntext = \n", r"s\.toml: not valid TOML"),
        ("title = 'x'\n", r"s\.toml: title: unknown setting"),
        ("", r"s\.toml: cue: missing or empty"),
        ("[[cue]]\nid = 'a'\n", r"s\.toml: cue\[0\]\.text: missing"),
        (
            "[[cue]]\nid = 'a'\ntext = 't'\nspeed = 2\n",
            r"s\.toml: cue\[0\]\.speed: unknown setting",
        ),
        (
            "[[cue]]\nid='a'\ntext='t'\n[[cue]]\nid='a'\ntext='u'\n",
            r"cue\[1\]\.id: a appears twice",
        ),
    ],
)
def test_bad_scripts_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BackpropError, match=message) as info:
        script.read_script(write(tmp_path / "s.toml", text))
    assert "\n" not in str(info.value)


def part_for(tmp_path: Path) -> Part:
    scene = write(tmp_path / "tiny.py", "# a scene\n")
    return Part(1, scene, "Tiny", preset="delta-demo")


def test_unknown_and_missing_ids_are_one_line_errors(tmp_path: Path) -> None:
    part = part_for(tmp_path)
    said = [(part, [script.ScriptCue("tiny/one/0", "x"), script.ScriptCue("tiny/two/0", "y")])]
    values = lambda p: ((lambda e: 1.0), 3)  # noqa: E731
    edited = [script.ScriptCue("tiny/one/0", "x"), script.ScriptCue("tiny/one/9", "z")]
    with pytest.raises(BackpropError, match=r"^s\.toml: cue\[1\]\.id: unknown cue tiny/one/9"):
        script.apply_script(said, edited, "s.toml", values)
    with pytest.raises(BackpropError, match=r"^s\.toml: cue: cue tiny/two/0 is missing"):
        script.apply_script(said, edited[:1], "s.toml", values)


def test_placeholders_are_formatted_as_on_screen(tmp_path: Path) -> None:
    from backprop_lecture.build import part_values

    part = part_for(tmp_path)
    trace = run(load_preset("delta-demo"))
    step = trace.steps[0]
    said = [(part, [script.ScriptCue("tiny/one/0", "old")])]
    edited = [script.ScriptCue("tiny/one/0", "w is {W2[0,1]}, loss {loss}, {{braces}}.")]
    (out,) = script.apply_script(said, edited, "s.toml", part_values)
    # Independently from the trace's arrays: W^(2) entry (0, 1), the loss, 3 decimals.
    w = f"{step.layers[1].W[0, 1]:.3f}"
    loss = f"{step.loss:.3f}"
    assert out[1][0].text == f"w is {w}, loss {loss}, {{braces}}."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{W9[0,0]}", r"cue\[0\]\.text: unknown placeholder \{W9\[0,0\]\}"),
        ("{W1[99,0]}", r"unknown placeholder \{W1\[99,0\]\} \(IndexError"),
        ("{__import__('os')}", r"unknown placeholder"),
        ("a lone { brace", r"a lone '\{'"),
    ],
)
def test_bad_placeholders_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    from backprop_lecture.build import part_values

    said = [(part_for(tmp_path), [script.ScriptCue("tiny/one/0", "old")])]
    with pytest.raises(BackpropError, match=message) as info:
        script.apply_script(said, [script.ScriptCue("tiny/one/0", text)], "s.toml", part_values)
    assert "\n" not in str(info.value)


def test_reading_time_agrees_with_the_kit() -> None:
    from backprop_anim import cues

    for text in ("", "two words", "a " * 40):
        assert script.reading_time(text) == cues.reading_time(text)


# -- voices --------------------------------------------------------------------------------


def tone(seconds: float, amplitude: float = 0.1, hz: float = 997.0) -> audio.Track:
    t = np.arange(round(seconds * audio.RATE)) / audio.RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def encode(track: audio.Track, path: Path) -> Path:
    """``track`` into ``path`` (wav, flac, mp3 or m4a) with PyAV."""
    codec = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".m4a": "aac"}
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec[path.suffix], rate=audio.RATE, layout="mono")
        fmt = s.codec_context.codec.audio_formats[0].name
        pcm = (track * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = audio.RATE
        frame.pts = 0
        frame.time_base = Fraction(1, audio.RATE)
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=audio.RATE)
        for chunk in resampler.resample(frame):
            for p in s.encode(chunk):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path


def test_loudness_of_a_reference_tone() -> None:
    # BS.1770: a 0 dBFS sine at 997 Hz reads -3.01 LUFS; 0.1 of full scale, 20 dB less.
    assert audio.loudness(tone(3.0, 1.0)) == pytest.approx(-3.01, abs=0.05)
    assert audio.loudness(tone(3.0, 0.1)) == pytest.approx(-23.01, abs=0.05)
    assert audio.loudness(np.zeros(audio.RATE, np.float32)) == -math.inf
    loud, gain = audio.normalise(tone(3.0, 0.1))
    assert audio.loudness(loud) == pytest.approx(audio.TARGET_LUFS, abs=0.05)
    assert gain == pytest.approx(7.01, abs=0.05)
    # A quiet tone with a loud click: the gain that reaches the target would clip the
    # click, so the gain stops at the peak ceiling instead.
    clicked = tone(3.0, 0.01)
    clicked[1000] = 0.9
    capped, _ = audio.normalise(clicked)
    assert 20 * math.log10(float(np.max(np.abs(capped)))) == pytest.approx(-1.0, abs=0.01)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a"])
def test_recordings_decode_at_their_length(tmp_path: Path, suffix: str) -> None:
    source = tone(1.7)
    decoded = audio.decode(encode(source, tmp_path / f"a{suffix}"))
    assert abs(len(decoded) - len(source)) / audio.RATE < 1 / 15  # within one -ql frame


def test_voice_folder_ids_missing_and_stray_recordings(tmp_path: Path) -> None:
    folder = tmp_path / "voice"
    folder.mkdir()
    encode(tone(1.0), folder / "tiny__one__0.wav")
    encode(tone(2.0), folder / "tiny__two__0.flac")
    encode(tone(0.5), folder / "tiny__old__0.mp3")
    write(folder / "notes.txt", "not audio, not a recording")
    notes: list[str] = []
    cues = [("tiny/one/0", "a"), ("tiny/one/1", "b"), ("tiny/two/0", "c")]
    voiced = voice.voice_cues(cues, str(folder), tmp_path / "store", notes.append)
    assert [v.duration is not None for v in voiced] == [True, False, True]
    assert voiced[0].duration == pytest.approx(1.0, abs=1e-3)
    assert voiced[2].duration == pytest.approx(2.0, abs=1e-3)
    assert len(notes) == 2
    assert "1 cue(s) have no recording" in notes[0] and "tiny__one__1" in notes[0]
    assert "tiny__old__0.mp3" in notes[1]
    # Normalised to the target.
    assert audio.loudness(audio.decode(voiced[0].audio)) == pytest.approx(-16.0, abs=0.2)  # type: ignore[arg-type]


def test_voice_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(BackpropError, match=r"nowhere: --voice: no such folder"):
        voice.recordings(tmp_path / "nowhere")
    folder = tmp_path / "v"
    folder.mkdir()
    encode(tone(1.0), folder / "a__b__0.wav")
    encode(tone(1.0), folder / "a__b__0.mp3")
    with pytest.raises(BackpropError, match=r"a second recording of cue a/b/0"):
        voice.recordings(folder)
    (folder / "a__b__0.mp3").unlink()
    write(folder / "a__b__1.ogg", "garbage, not an ogg")
    with pytest.raises(BackpropError, match=r"a__b__1\.ogg: --voice: not readable audio") as info:
        voice.voice_cues([("a/b/0", "x"), ("a/b/1", "y")], str(folder), tmp_path / "store")
    assert "\n" not in str(info.value)


def test_voice_plan_is_in_the_part_key(tmp_path: Path) -> None:
    part = part_for(tmp_path)
    folder = tmp_path / "voice"
    folder.mkdir()
    encode(tone(1.0), folder / "tiny__one__0.wav")
    cues = [("tiny/one/0", "a"), ("tiny/one/1", "b")]
    plan = tmp_path / "plan.json"

    def key(texts: list[tuple[str, str]]) -> str:
        voiced = voice.voice_cues(texts, str(folder), tmp_path / "store")
        return part_key(part, "l", tmp_path, voice.write_plan(voiced, plan))

    plain = part_key(part, "l", tmp_path)
    first = key(cues)
    assert first != plain and first == key(cues)
    assert key([("tiny/one/0", "a"), ("tiny/one/1", "B")]) != first  # a text
    encode(tone(1.2), folder / "tiny__one__0.wav")  # a new recording of one cue
    assert key(cues) != first


# -- the command: bad input before anything renders ------------------------------------


def test_bad_voice_and_script_stop_the_lecture_before_rendering(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    bad = write(tmp_path / "s.toml", "[[cue]]\nid = 1\n")
    for args in (["--voice", str(tmp_path / "none")], ["--script", str(bad)]):
        result = runner.invoke(cli, ["lecture", "-o", str(out), *args])
        assert result.exit_code != 0
        assert not (out / ".cache" / "parts").exists()
    from backprop_cli.cli import main

    for args in (["--voice", str(tmp_path / "none")], ["--script", str(bad)]):
        done = _main(main, ["lecture", "-o", str(out), *args])
        assert done[0] == 2
        assert len(done[1].strip().splitlines()) == 1, done[1]


def _main(main: object, args: list[str]) -> tuple[int, str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    return done.returncode, done.stderr


def test_joined_audio_keeps_every_part_at_its_video_length(tmp_path: Path) -> None:
    from test_lecture_narration import tiny_video

    # Part 1: 2 s of video with 1.5 s of sound; part 2: no sound; part 3: 2 s of video with
    # 3 s of sound (cut at its end). Each part's sound starts where its video starts.
    videos = []
    for i, sound in enumerate([1.5, None, 3.0]):
        v = tmp_path / f"{i}.mp4"
        tiny_video(v, frames=30, fps=15)
        if sound is not None:
            audio.mux_audio(v, tone(sound, 0.5), v)
        videos.append((v, 2.0))
    track = audio.join_audio(videos)
    assert track is not None
    assert len(track) == 6 * audio.RATE
    heard = np.flatnonzero(np.abs(track) > 0.05) / audio.RATE
    assert heard[0] == pytest.approx(0.0, abs=0.05)
    assert not len(heard[(heard > 1.55) & (heard < 4.0)])  # silence: end of 1, all of 2
    assert heard[(heard >= 4.0)][0] == pytest.approx(4.0, abs=0.05)
    assert heard[-1] == pytest.approx(6.0, abs=0.05)


def test_narration_options_and_the_narrate_alias(tmp_path: Path) -> None:
    import click

    from backprop_cli.script import narration_options

    @click.command()
    @narration_options
    def command(voice: str | None, script: Path | None) -> None:
        click.echo(f"{voice} {script}")

    runner = CliRunner()
    assert runner.invoke(command, []).output == "None None\n"
    assert runner.invoke(command, ["--narrate"]).output == "espeak None\n"
    assert runner.invoke(command, ["--voice", "espeak"]).output == "espeak None\n"
    given = runner.invoke(command, ["--voice", str(tmp_path), "--script", "s.toml"])
    assert given.output == f"{tmp_path} s.toml\n"
    assert runner.invoke(command, ["--voice", str(tmp_path / "no")]).exit_code == 2
