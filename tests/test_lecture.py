"""`backprop lecture` without rendering: the lecture file, the cache key, subtitles, chapters."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import backprop_lecture as lec
from backprop_core import BackpropError
from backprop_lecture.cache import _kit_files as kit_files

SCENE = """
from manim import Circle, Create

from backprop_anim.scene import TraceScene


class Tiny(TraceScene):
    def construct(self) -> None:
        self.beat("only", "One beat.", duration=1.0)
        self.play(Create(Circle()), run_time=0.5)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with scenes/a.py and scenes/b.py, a trace-free lecture can name."""
    (tmp_path / "scenes").mkdir()
    for name in ("a", "b"):
        (tmp_path / "scenes" / f"{name}.py").write_text(SCENE)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_parts_resolve_names_paths_and_settings(project: Path) -> None:
    config = write(project / "net.toml", "# not read here\n")
    f = write(
        project / "l.toml",
        'title = "T"\n'
        '[[parts]]\nscene = "a"\npreset = "xor"\niteration = 2\n'
        '[[parts]]\nscene = "scenes/b.py"\ntitle = "Bee"\nconfig = "net.toml"\ndecimals = 4\n',
    )
    lecture = lec.load_lecture(f, cwd=project)
    a, b = lecture.parts
    assert lecture.title == "T"
    assert a.scene == project / "scenes" / "a.py" and a.title == "A" and a.name == "01-a"
    assert a.env() == {"BACKPROP_PRESET": "xor", "BACKPROP_ITERATION": "2"}
    assert b.title == "Bee" and b.name == "02-b"
    assert b.env() == {"BACKPROP_CONFIG": str(config), "BACKPROP_DECIMALS": "4"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[parts]]\nscene = "nope"\n', "l.toml: parts[0].scene: unknown scene 'nope'"),
        ('[[parts]]\nscene = "a"\n[[parts]]\ncolour = 1\n', "l.toml: parts[1].colour: unknown"),
        ('[[parts]]\nscene = "a"\ndecimals = 12\n', "parts[0].decimals: must be between 0 and 8"),
        ('[[parts]]\nscene = "a"\niteration = 0\n', "parts[0].iteration: must be at least 1"),
        ('[[parts]]\nscene = "a"\niteration = "1"\n', "parts[0].iteration: must be a whole"),
        ('[[parts]]\nscene = "a"\npreset = "nah"\n', "parts[0].preset: unknown preset 'nah'"),
        ('[[parts]]\nscene = "a"\ntrace = "t.json"\n', "parts[0].trace: file not found"),
        ('[[parts]]\nscene = "a"\npreset = "xor"\nconfig = "c"\n', "preset and config: set only"),
        ('[[parts]]\ntitle = "x"\n', "parts[0].scene: missing"),
        ("parts = []\n", "l.toml: parts: missing or empty"),
        ('speed = 2\n[[parts]]\nscene = "a"\n', "l.toml: speed: unknown setting"),
        ("[[parts]\n", "l.toml: not valid TOML"),
    ],
)
def test_lecture_file_errors_name_file_and_field(project: Path, text: str, message: str) -> None:
    with pytest.raises(BackpropError, match=r"^") as info:
        lec.load_lecture(write(project / "l.toml", text), cwd=project)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_prints_one_line_and_exits_2(project: Path) -> None:
    f = write(project / "l.toml", '[[parts]]\nscene = "missing"\n')
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "lecture", str(f), "-o", str(project / "out")],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "parts[0].scene: unknown scene" in done.stderr
    assert not (project / "out").exists()


def test_default_lecture_is_the_packaged_scenes_from_any_folder(tmp_path: Path) -> None:
    lecture = lec.load_lecture(None, cwd=tmp_path)
    packaged = lec.packaged_scenes_dir()
    assert packaged is not None
    assert [p.scene for p in lecture.parts] == [
        packaged / f"{n}.py" for n in lec.DEFAULT_SCENE_ORDER
    ]
    assert lecture.skipped == ()


def test_default_lecture_keeps_existing_scenes_in_order(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("delta", "scalar"):
        (project / "scenes" / f"{name}.py").write_text(SCENE)
    monkeypatch.setattr("backprop_lecture.spec.packaged_scenes_dir", lambda: project / "scenes")
    lecture = lec.load_lecture(None, cwd=project)
    assert [p.scene.stem for p in lecture.parts] == ["scalar", "delta"]
    assert [p.index for p in lecture.parts] == [1, 2]
    assert set(lecture.skipped) == {"chain", "network", "training"}
    assert lec.DEFAULT_SCENE_ORDER == ("scalar", "chain", "delta", "network", "training")


def test_default_lecture_without_any_scene_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backprop_lecture.spec.packaged_scenes_dir", lambda: tmp_path)
    with pytest.raises(BackpropError, match="none of the scenes exists"):
        lec.load_lecture(None, cwd=tmp_path)


def test_part_key_follows_scene_settings_and_quality_only(project: Path) -> None:
    f = write(project / "l.toml", '[[parts]]\nscene = "a"\n[[parts]]\nscene = "a"\ndecimals = 2\n')
    a, a2 = lec.load_lecture(f, cwd=project).parts
    key = lec.part_key(a, "l", project)
    assert key == lec.part_key(a, "l", project)
    assert key != lec.part_key(a, "m", project)
    assert key != lec.part_key(a2, "l", project)
    (project / "scenes" / "a.py").write_text(SCENE + "\n# edited\n")
    assert key != lec.part_key(a, "l", project)
    names = {p.name for p in kit_files()}
    assert {"scene.py", "network.py", "tex_template.tex", "renderer.py"} <= names
    assert not names & {"cli.py", "handout.py", "narration.py", "slides.py"}


def test_srt_round_trip_and_shift() -> None:
    text = (
        "1\n00:00:00,000 --> 00:00:01,500\nHello\nworld\n\n2\n00:01:02,250 --> 01:00:00,001\nBye\n"
    )
    subs = lec.parse_srt(text)
    assert subs == [
        lec.Subtitle(0.0, 1.5, "Hello\nworld"),
        lec.Subtitle(62.25, 3600.001, "Bye"),
    ]
    assert lec.parse_srt(lec.compose_srt(subs)) == subs
    assert lec.srt_time(3723.0456) == "01:02:03,046"


def test_composed_cues_never_overlap() -> None:
    subs = [lec.Subtitle(0.0, 9.615, "one"), lec.Subtitle(9.6, 12.0, "two")]
    out = lec.parse_srt(lec.compose_srt(subs))
    assert [s.text for s in out] == ["one", "two"]
    assert out[0].end <= out[1].start == 9.6


def test_timeline_and_chapters_from_frame_counts(project: Path) -> None:
    f = write(project / "l.toml", '[[parts]]\nscene = "a"\ntitle = "A"\n[[parts]]\nscene = "b"\n')
    parts = lec.load_lecture(f, cwd=project).parts
    media = [
        lec.PartMedia(
            project,
            "A",
            Fraction(15),
            930,
            [lec.Section("intro", "", 450, ""), lec.Section("the_end", "", 480, "")],
            3,
            1.0,
            True,
        ),
        lec.PartMedia(
            project, "B", Fraction(15), 31, [lec.Section("x", "", 31, "")], 1, 1.0, False
        ),
    ]
    line = lec.timeline(media)
    assert line.part_starts == [0.0, 62.0]
    assert line.section_starts == [[0.0, 30.0], [62.0]]
    assert line.total == pytest.approx(62 + 31 / 15)
    assert lec.chapters(parts, media, line).splitlines() == [
        "00:00:00 A",
        "00:00:00 A: intro",
        "00:00:30 A: the end",
        "00:01:02 B",
        "00:01:02 B: x",
    ]
    assert lec.chapter_time(3661.99) == "01:01:01"


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        ("noise\rAnimation 1\nbackprop: error: t.json: file not found\n", "t.json: file not found"),
        ("Traceback\n  File x\nValueError: bad thing\n", "ValueError: bad thing"),
        ("│ NameError: name 'x' is not defined │\n", "NameError: name 'x' is not defined"),
        ("", "manim exited without output"),
    ],
)
def test_failure_reason_is_one_line(log: str, reason: str) -> None:
    assert lec.failure_reason(log) == reason


def test_render_command_closes_nothing_but_sets_media_dir_and_env(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPROP_PRESET", "xor")  # the user's shell must not leak in
    f = write(project / "l.toml", '[[parts]]\nscene = "a"\ndecimals = 1\n')
    (part,) = lec.load_lecture(f, cwd=project).parts
    cmd = lec.manim_command(part, "m", project / "media")
    assert cmd[-1] == str(part.scene)
    assert "-qm" in cmd and "--save_sections" in cmd
    assert cmd[cmd.index("--media_dir") + 1] == str(project / "media")
    assert ("--disable_caching" in cmd) == (not lec.MANIM_CACHE)
    assert Path(cmd[cmd.index("--tex_template") + 1]) == lec.tex_template()  # any folder
    env = lec.part_environment(part)
    assert env["BACKPROP_DECIMALS"] == "1" and "BACKPROP_PRESET" not in env


def test_lecture_module_does_not_import_manim() -> None:
    code = "import sys, backprop_lecture; print('manim' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_scene_default_preset_is_read_without_importing(tmp_path: Path) -> None:
    scene = write(
        tmp_path / "s.py",
        SCENE.replace(
            "class Tiny(TraceScene):", 'class Tiny(TraceScene):\n    default_preset = "xor"'
        ),
    )
    assert lec.scene_default_preset(scene) == "xor"
    assert lec.scene_default_preset(write(tmp_path / "t.py", SCENE)) == "delta-demo"


def test_platform_chapters_are_ten_seconds_apart_and_keep_parts() -> None:
    entries = [
        (0.0, "A", True),
        (0.0, "A: intro", False),
        (9.0, "A: short", False),
        (30.0, "A: long", False),
        (55.0, "A: last", False),
        (61.5, "B", True),
        (61.5, "B: intro", False),
        (90.0, "B: end", False),
    ]
    assert lec.platform_chapters(entries).splitlines() == [
        "00:00:00 A",
        "00:00:30 A: long",
        "00:01:01 B",
        "00:01:30 B: end",
    ]
    assert lec.platform_chapters([(3.0, "late start", True)]) == "00:00:00 late start\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[parts]]\nscen = "a"\n', "parts[0].scen: unknown setting (did you mean 'scene'?)"),
        ('[[parts]]\nscene = "a"\npresets = "xor"\n', "(did you mean 'preset'?)"),
        ('titel = "T"\n[[parts]]\nscene = "a"\n', "l.toml: titel: unknown setting (did you"),
        ('title = 3\n[[parts]]\nscene = "a"\n', "l.toml: title: must be text, got 3"),
        ('[[parts]]\nscene = "a"\ntitle = "two\\nlines"\n', "parts[0].title: must be one line"),
        ('[[parts]]\nscene = "a"\ndecimals = true\n', "parts[0].decimals: must be a whole"),
        ('[[parts]]\nscene = "a"\niteration = 2.0\n', "parts[0].iteration: must be a whole"),
        ("[[parts]]\nscene = 1\n", "parts[0].scene: missing"),
        ('parts = "a"\n', "l.toml: parts: missing or empty"),
        ('parts = ["a"]\n', "l.toml: parts[0]: must be a table"),
        ('[[parts]]\nscene = "delt"\n', "unknown scene 'delt' (did you mean 'delta'?)"),
    ],
)
def test_lecture_schema_is_strict(project: Path, text: str, message: str) -> None:
    with pytest.raises(BackpropError) as info:
        lec.load_lecture(write(project / "l.toml", text), cwd=project)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A scene file outside the lecture's folder ``project/``."""
    (tmp_path / "project").mkdir()
    (tmp_path / "evil.py").write_text(SCENE)
    return tmp_path / "evil.py"


@pytest.mark.parametrize(
    "scene", ["../evil.py", "{evil}", "scenes/../../evil.py", "link.py", "linked"]
)
def test_scene_files_outside_the_lecture_folder_are_refused(outside: Path, scene: str) -> None:
    project = outside.parent / "project"
    (project / "link.py").symlink_to(outside)
    (project / "scenes").mkdir()
    (project / "scenes" / "linked.py").symlink_to(outside)
    f = write(project / "l.toml", f'[[parts]]\nscene = "{scene.format(evil=outside)}"\n')
    with pytest.raises(BackpropError, match="outside the lecture file's folder") as info:
        lec.load_lecture(f)
    assert "parts[0].scene:" in str(info.value) and "--allow-outside-scenes" in str(info.value)
    (part,) = lec.load_lecture(f, allow_outside_scenes=True).parts
    assert part.scene == outside.resolve()


def test_lecture_in_a_folder_with_spaces_prefers_its_own_scenes(tmp_path: Path) -> None:
    folder = tmp_path / "my lectures" / "week 1"
    (folder / "scenes").mkdir(parents=True)
    (folder / "scenes" / "delta.py").write_text(SCENE)
    (folder / "tiny one.py").write_text(SCENE)
    f = write(
        folder / "l.toml",
        '[[parts]]\nscene = "delta"\n[[parts]]\nscene = "tiny one.py"\n'
        '[[parts]]\nscene = "chain"\n',
    )
    own, path, packaged = lec.load_lecture(f, cwd=tmp_path).parts
    assert own.scene == (folder / "scenes" / "delta.py").resolve()
    assert path.scene == (folder / "tiny one.py").resolve()
    assert packaged.scene == lec.packaged_scene("chain")


def test_cli_refuses_an_outside_scene_in_one_line(outside: Path) -> None:
    project = outside.parent / "project"
    f = write(project / "l.toml", '[[parts]]\nscene = "../evil.py"\n')
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "lecture", str(f), "-o", str(project / "out")],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "outside the lecture file's folder" in done.stderr
    assert not (project / "out").exists()
