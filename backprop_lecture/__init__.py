r"""``backprop lecture``: render a lecture's parts with manim and join them into one video.

A *lecture file* (TOML) lists the parts in order; each part is a scene file and the
``BACKPROP_*`` settings it reads::

    title = "Backpropagation in matrix form"

    [[parts]]
    scene = "delta"               # a packaged scene (a bare name), or a path to a .py file
    title = "Backpropagation, layer by layer"
    preset = "delta-demo"         # at most one of trace / preset / config
    iteration = 1                 # optional: BACKPROP_ITERATION
    decimals = 3                  # optional: BACKPROP_DECIMALS

A bare scene name is ``scenes/NAME.py`` beside the lecture file if that exists, else the
packaged scene of that name; paths, traces and configs resolve against the lecture file's
folder, and a scene file outside that folder is refused unless ``--allow-outside-scenes``
(a scene is a Python program that runs). The default lecture
(``backprop_lecture/lectures/default.toml``) lists scalar → chain → delta → network →
training, the packaged scenes, from any folder.

Rendering drives ``manim render`` in one subprocess per part (stdin closed, its own
``--media_dir``, the project's TeX template as a flag, environment ``BACKPROP_*`` from the
part), ``jobs`` at a time. A part is
cached under ``OUT/.cache/parts/`` keyed by a hash of everything its video depends on
(:func:`part_key`), so a second run re-renders only the parts that changed. Then the
finished parts are assembled into ``OUT``:

- ``lecture.mp4``: the parts' packets remuxed with shifted timestamps (no re-encoding)
  when their streams agree, else decoded and re-encoded once;
- ``lecture.srt``: every part's subcaptions, shifted by the part's start;
- ``chapters.txt``: ``HH:MM:SS title`` for every part and every section, and
  ``chapters-youtube.txt``, the subset a video platform accepts (≥ 10 s apart);
- ``stills/``: the finished board of every section, as PNG;
- ``preview.gif``: a few seconds of the delta part, small, for a course page;
- ``parts/``: each part's own video and subtitles;
- ``handouts/``: each part's worked solution and exercise sheet (:mod:`backprop_lecture.handout`);
- ``slides/``: a manim-slides presentation, one slide per section (:mod:`backprop_lecture.slides`).

The package, in the order a run goes through it: :mod:`.spec` (the lecture file),
:mod:`.cache` (the part cache and its key), :mod:`.render` (manim processes, progress),
:mod:`.media` (PyAV: joining, stills, the GIF), :mod:`.timeline` (subtitles, chapters) and
:mod:`.build` (the whole command); narration: :mod:`.script` (the cues and the script
file), :mod:`.voice` (recordings or espeak-ng into voice plans), :mod:`.audio` (decoding,
loudness, muxing; see ``docs/narration.md``). None of it imports manim (it only reads manim's
outputs, with PyAV and Pillow), so ``backprop lecture --help`` is instant and
``backprop_core`` stays manim-free.
"""

from __future__ import annotations

from backprop_lecture.build import (
    LectureResult,
    assemble,
    build_lecture,
    iter_outputs,
    part_trace,
    scene_default_preset,
    write_handouts,
)
from backprop_lecture.cache import (
    CACHE_FORMAT,
    MANIM_CACHE,
    PartMedia,
    Section,
    part_key,
    project_root,
)
from backprop_lecture.media import (
    PREVIEW_FPS,
    PREVIEW_SCENE,
    PREVIEW_SECONDS,
    PREVIEW_WIDTH,
    STILL_INK,
    join_videos,
    preview_gif,
    section_still,
    video_duration,
    video_frames,
)
from backprop_lecture.owned import check_output
from backprop_lecture.render import (
    PartResult,
    ProgressBoard,
    default_jobs,
    failure_reason,
    manim_command,
    part_environment,
    project_flags,
    render_part,
    render_parts,
    tex_template,
)
from backprop_lecture.spec import (
    DEFAULT_OUT,
    DEFAULT_SCENE_ORDER,
    QUALITIES,
    Lecture,
    Part,
    default_lecture_path,
    load_lecture,
    packaged_scene,
    packaged_scene_names,
    packaged_scenes_dir,
)
from backprop_lecture.timeline import (
    Subtitle,
    Timeline,
    chapter_entries,
    chapter_time,
    chapters,
    compose_srt,
    joined_subtitles,
    parse_srt,
    platform_chapters,
    srt_time,
    timeline,
)

__all__ = [
    "CACHE_FORMAT",
    "DEFAULT_OUT",
    "DEFAULT_SCENE_ORDER",
    "MANIM_CACHE",
    "PREVIEW_FPS",
    "PREVIEW_SCENE",
    "PREVIEW_SECONDS",
    "PREVIEW_WIDTH",
    "QUALITIES",
    "STILL_INK",
    "Lecture",
    "LectureResult",
    "Part",
    "PartMedia",
    "PartResult",
    "ProgressBoard",
    "Section",
    "Subtitle",
    "Timeline",
    "assemble",
    "build_lecture",
    "chapter_entries",
    "chapter_time",
    "chapters",
    "check_output",
    "compose_srt",
    "default_jobs",
    "default_lecture_path",
    "failure_reason",
    "iter_outputs",
    "join_videos",
    "joined_subtitles",
    "load_lecture",
    "manim_command",
    "packaged_scene",
    "packaged_scene_names",
    "packaged_scenes_dir",
    "parse_srt",
    "part_environment",
    "part_key",
    "part_trace",
    "platform_chapters",
    "preview_gif",
    "project_flags",
    "project_root",
    "render_part",
    "render_parts",
    "scene_default_preset",
    "section_still",
    "srt_time",
    "tex_template",
    "timeline",
    "video_duration",
    "video_frames",
    "write_handouts",
]
