"""`backprop lecture` end to end: two tiny parts rendered by manim at -ql (slow tier)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

import backprop_lecture as lec

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

SCENE = """
from manim import Circle, Create, FadeOut, Square

from backprop_anim.scene import TraceScene


class {cls}(TraceScene):
    def construct(self) -> None:
        self.beat("{first}", "{cls} begins.", duration=0.8)
        c = Circle()
        self.play(Create(c), run_time={t1})
        self.beat("second_beat", "{cls} ends.", duration=0.5)
        self.play(FadeOut(c), run_time=0.4)
"""

BROKEN = """
from backprop_anim.scene import TraceScene


class Broken(TraceScene):
    def construct(self) -> None:
        raise ValueError("this part is broken on purpose")
"""


def frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lec.LectureResult, Path]:
    tmp = tmp_path_factory.mktemp("lecture")
    (tmp / "one.py").write_text(SCENE.format(cls="One", first="intro", t1=1.0))
    (tmp / "delta.py").write_text(SCENE.format(cls="Two", first="start", t1=0.6))
    lecture_file = tmp / "lecture.toml"
    lecture_file.write_text(
        'title = "Tiny"\n'
        '[[parts]]\nscene = "one.py"\ntitle = "Part one"\npreset = "seed-scalar"\n'
        '[[parts]]\nscene = "delta.py"\ntitle = "Part two"\ndecimals = 2\n'
    )
    out = tmp / "out"
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "lecture", str(lecture_file), "-j2", f"-o{out}"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = lec.build_lecture(lec.load_lecture(lecture_file), out, "l", 2, cwd=ROOT)
    return lecture_file, result, out


def test_second_run_reuses_both_parts(built: tuple[Path, lec.LectureResult, Path]) -> None:
    _, result, _ = built
    assert [r.status for r in result.results] == ["cached", "cached"]


def test_joined_video_is_the_parts_back_to_back(
    built: tuple[Path, lec.LectureResult, Path],
) -> None:
    _, result, out = built
    parts = [out / "parts" / "01-one.mp4", out / "parts" / "02-delta.mp4"]
    assert result.join == "remux"
    joined = frames(out / "lecture.mp4")
    assert abs(joined - sum(frames(p) for p in parts)) <= 1
    total = sum(lec.video_duration(p) for p in parts)
    assert abs(lec.video_duration(out / "lecture.mp4") - total) <= 1 / 15 + 1e-9
    with av.open(str(out / "lecture.mp4")) as c:
        pts = [f.pts for f in c.decode(video=0)]
    assert pts == sorted(set(pts))


def test_subtitles_are_shifted_by_each_part_start(
    built: tuple[Path, lec.LectureResult, Path],
) -> None:
    _, _, out = built
    subs = lec.parse_srt((out / "lecture.srt").read_text())
    first = lec.parse_srt((out / "parts" / "01-one.srt").read_text())
    second = lec.parse_srt((out / "parts" / "02-delta.srt").read_text())
    offset = lec.video_duration(out / "parts" / "01-one.mp4")
    assert [s.text for s in subs] == ["One begins.", "One ends.", "Two begins.", "Two ends."]
    # Each cue starts at its part's time plus the part's start; a cue that runs into the
    # next one (in its part, or past its part's end) ends where the next begins.
    own = [(c.start, c.end) for c in first] + [(c.start + offset, c.end + offset) for c in second]
    starts = [start for start, _ in own]
    for joined, (start, end), after in zip(subs, own, [*starts[1:], None], strict=True):
        assert joined.start == pytest.approx(start, abs=0.0011)
        assert joined.end == pytest.approx(end if after is None else min(end, after), abs=0.0011)


def test_chapters_match_part_and_section_starts(
    built: tuple[Path, lec.LectureResult, Path],
) -> None:
    _, result, out = built
    media = [r.media for r in result.results if r.media]
    line = lec.timeline(media)
    lines = (out / "chapters.txt").read_text().splitlines()
    assert [ln.split(" ", 1)[1] for ln in lines] == [
        "Part one",
        "Part one: intro",
        "Part one: second beat",
        "Part two",
        "Part two: start",
        "Part two: second beat",
    ]
    assert lines[0].startswith("00:00:00 ")
    assert (out / "chapters-youtube.txt").read_text() == "00:00:00 Part one\n"
    starts = [line.part_starts[0], *line.section_starts[0], line.part_starts[1]]
    starts += line.section_starts[1]
    assert [ln.split(" ")[0] for ln in lines] == [lec.chapter_time(s) for s in starts]
    # Section starts are where the sections' clips begin in the joined video.
    first_sections = media[0].sections
    assert line.section_starts[0][1] == pytest.approx(first_sections[0].frames / 15)
    assert line.part_starts[1] == pytest.approx(lec.video_duration(out / "parts" / "01-one.mp4"))


def test_stills_and_preview(built: tuple[Path, lec.LectureResult, Path]) -> None:
    _, _, out = built
    stills = sorted(p.name for p in (out / "stills").glob("*.png"))
    assert stills == [
        "01-one-01-intro.png",
        "01-one-02-second-beat.png",
        "02-delta-01-start.png",
        "02-delta-02-second-beat.png",
    ]
    with Image.open(out / "stills" / stills[0]) as im:
        assert im.size == (854, 480)
        assert im.getbbox() is not None  # the circle is drawn, not a black frame
    with Image.open(out / "preview.gif") as gif:
        assert gif.width == lec.PREVIEW_WIDTH and gif.n_frames >= 2
    assert (out / "preview.gif").stat().st_size < 500_000


def test_a_changed_part_is_re_rendered_alone_and_a_failure_stops_nothing(
    built: tuple[Path, lec.LectureResult, Path],
) -> None:
    lecture_file, _, out = built
    scene = lecture_file.parent / "one.py"
    scene.write_text(scene.read_text() + "\n# edited\n")
    result = lec.build_lecture(lec.load_lecture(lecture_file), out, "l", 2, cwd=ROOT)
    assert [r.status for r in result.results] == ["rendered", "cached"]
    # Only the current version of a part stays in the cache.
    assert len(list((out / ".cache" / "parts").glob("01-one-*"))) == 1

    (lecture_file.parent / "broken.py").write_text(BROKEN)
    bad = lecture_file.parent / "bad.toml"
    bad.write_text('[[parts]]\nscene = "broken.py"\n[[parts]]\nscene = "one.py"\n')
    result = lec.build_lecture(lec.load_lecture(bad), out / "bad", "l", 2, cwd=ROOT)
    broken, one = result.results
    assert broken.status == "failed" and one.status == "rendered"
    assert "this part is broken on purpose" in broken.reason
    assert broken.log is not None and broken.log.is_file()
    assert (out / "bad" / "parts" / "02-one.mp4").is_file()
    assert not (out / "bad" / "lecture.mp4").exists()


def test_slides_one_per_section_with_notes(built: tuple[Path, lec.LectureResult, Path]) -> None:
    _, _, out = built
    doc = json.loads((out / "slides" / "lecture.json").read_text())
    assert [s["notes"] for s in doc["slides"]] == [
        "One begins.",
        "One ends.",
        "Two begins.",
        "Two ends.",
    ]
    assert doc["resolution"] == [854, 480]
    for s in doc["slides"]:
        assert (out / s["file"]).is_file()
    manim_slides = pytest.importorskip("manim_slides.config")
    config = manim_slides.PresentationConfig.from_file(out / "slides" / "lecture.json")
    assert len(config.slides) == 4


def test_handouts_follow_each_part_settings(built: tuple[Path, lec.LectureResult, Path]) -> None:
    _, _, out = built
    names = sorted(p.name for p in (out / "handouts").iterdir())
    assert names == [
        f"{part}{kind}{ext}"
        for part in ("01-one", "02-delta")
        for kind in ("-exercise", "")
        for ext in (".md", ".tex")
    ]
    one = (out / "handouts" / "01-one.md").read_text()
    two = (out / "handouts" / "02-delta.md").read_text()
    assert "seed-scalar" in one and "3 decimals" in one
    assert "delta-demo" in two and "2 decimals" in two
