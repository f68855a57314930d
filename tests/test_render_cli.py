"""`backprop render` without rendering: every bad option is one line and exit 2, the manim
command carries the project's settings, and the plugin module imports nothing."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from backprop_cli.render import build_request, manim_render_command
from backprop_lecture.render import MAX_INFLIGHT_ENCODERS, tex_template

ROOT = Path(__file__).resolve().parents[1]


def backprop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("render cli")
    (tmp / "bad.json").write_text("{not json")
    (tmp / "bad.toml").write_text("[network]\nsizes = [2, 2]\nintit = 1\n")
    (tmp / "notes.txt").write_text("not a scene")
    (tmp / "a folder.mp4").mkdir()
    return tmp


BAD = [
    (["delt"], "SCENE: unknown scene 'delt' (did you mean 'delta'?)"),
    (["missing.py"], "SCENE: no scene file missing.py"),
    (["notes.txt"], "SCENE: a scene file ends in .py"),
    (["delta", "--preset", "xo"], "--preset: unknown preset 'xo' (did you mean 'xor'?)"),
    (["delta", "--trace", "nope.json"], "nope.json: file not found"),
    (["delta", "--trace", "bad.json"], "bad.json"),
    (["delta", "--config", "bad.toml"], "bad.toml"),
    (["delta", "--preset", "xor", "--trace", "bad.json"], "--preset and --trace: give at most"),
    (["delta", "--iteration", "0"], "--iteration: iteration 0 is not recorded"),
    (["delta", "-p", "xor", "-k", "100000"], "iteration 100000 is not recorded; recorded: 1,"),
    (["delta", "-p", "xor", "-k", "15"], "preset xor: --iteration: iteration 15 is not recorded"),
    (["delta", "--iteration", "two"], "'--iteration' / '-k': 'two' is not a valid integer"),
    (["delta", "--decimals", "9"], "'--decimals': 9 is not in the range 0<=x<=8"),
    (["delta", "--decimals", "-1"], "'--decimals': -1 is not in the range"),
    (["delta", "-q", "x"], "'-q' / '--quality': 'x' is not one of"),
    (["delta", "-o", "no/such/folder/v.mp4"], "-o: no folder no/such/folder; create it first"),
    (["delta", "-o", "v.avi"], "-o: must end in .mp4, got v.avi"),
    (["delta", "-o", "a folder.mp4"], "-o: a folder.mp4 is a folder"),
    (["delta", "--gif", "-o", "v.mp4"], "-o: must end in .gif"),
    (["delta", "--still", "s.jpg"], "--still: must end in .png"),
    (["delta", "--still", "s.png", "--gif"], "--still and --gif: a still is one PNG image"),
    (["delta", "--still", "s.png", "--sections"], "--still and --sections"),
    (["delta", "--still", "s.png", "-o", "v.mp4"], "--still and -o"),
    (["delta", "--colour", "red"], "No such option '--colour'"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_every_bad_option_is_one_line_and_exit_2(
    folder: Path, args: list[str], message: str
) -> None:
    done = backprop("render", *args, cwd=folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (folder / "media").exists()  # nothing started rendering


def test_the_request_resolves_paths_and_settings(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = folder / "mine.py"
    scene.write_text("class Mine: default_preset = 'xor'\n")
    monkeypatch.chdir(folder)
    request = build_request(
        "mine.py", None, None, None, 10, 2, "m", None, True, None, False, Path("media")
    )
    assert request.scene == scene.resolve()
    assert request.out == (folder / "mine.mp4").resolve() and request.kind == "video"
    assert request.part.env() == {"BACKPROP_ITERATION": "10", "BACKPROP_DECIMALS": "2"}
    cmd = manim_render_command(request)
    assert cmd[-1] == str(scene.resolve()) and "-qm" in cmd and "--save_sections" in cmd
    assert cmd[cmd.index("-o") + 1] == str(request.out)
    assert Path(cmd[cmd.index("--tex_template") + 1]) == tex_template()
    packaged = build_request(
        "delta", "xor", None, None, None, None, "l", None, False, folder / "s.png", False, Path("m")
    )
    assert packaged.scene.name == "delta.py" and packaged.kind == "still"
    assert "--save_last_frame" in manim_render_command(packaged)


def test_project_flags_match_the_repository_manim_cfg() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "manim.cfg")
    assert cfg["CLI"].getint("max_inflight_encoders") == MAX_INFLIGHT_ENCODERS
    assert (ROOT / cfg["CLI"]["tex_template_file"]).resolve() == tex_template()
    assert tex_template().is_file()


def test_the_plugin_module_imports_nothing() -> None:
    code = (
        "import sys; before = set(sys.modules); import backprop_anim.plugin; "
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('backprop_anim')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_every_package_folder_is_in_the_wheel_list() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in ROOT.glob("backprop_*/**/__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | {"backprop_scenes", "backprop_lecture.lectures"} == listed
    assert (ROOT / "scenes" / "__init__.py").is_file()


def test_trace_scene_uses_the_project_template_unless_one_is_chosen() -> None:
    from manim import TexTemplate, config, tempconfig

    from backprop_anim.scene import TEX_TEMPLATE, use_project_tex_template

    ours = TexTemplate.from_file(TEX_TEMPLATE)
    with tempconfig({"tex_template_file": ""}):
        config.tex_template = TexTemplate()
        use_project_tex_template()
        assert config.tex_template == ours
    with tempconfig({}):
        chosen = TexTemplate(preamble=r"\usepackage{xcolor}")
        config.tex_template = chosen
        use_project_tex_template()
        assert config.tex_template == chosen
