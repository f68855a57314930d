"""Manim's SVG cache, kept on disk and copied cheaply: glyphs are parsed once, ever.

Every ``MathTex`` and ``Text`` is an ``SVGMobject``: manim parses its SVG file (XML, then
``svgelements``, then Bézier points) and keeps the result in ``SVG_HASH_TO_MOB_MAP``, a
dictionary that lives as long as the process and whose entries are deep-copied on every
hit. A matrix video shows a few hundred distinct numbers, and every ``manim render`` is a
new process, so each render parses them all again: on ``scenes/delta.py`` at ``-ql``,
without this module, parsing takes about 2.6 s and the deep copies of cache hits 1.4 s of
a 21 s render.

:func:`install` (called by :func:`backprop_anim.tuning.enable`) wraps
:meth:`SVGMobject.init_svg_mobject` and keeps manim's logic (look the SVG up, else
generate it and remember it) with two changes:

- an entry is stored as ``pickle`` bytes, in memory and in ``<media_dir>/svg_cache/``, so
  the next process finds it too. The key is manim's own ``hash_seed`` (class, style
  defaults, path options, file name, renderer) written out with ``repr``, the manim
  version and the SVG file's bytes (``Text`` rewrites its file on every build, so its
  modification time says nothing).
- a hit is ``pickle.loads`` of those bytes: 0.75 ms against 3.5 ms for the deep copy of a
  ``MathTex`` (pickle copies in C what ``copy.deepcopy`` walks in Python).

Glyphs also forget their ``svgelements`` path (``path_obj``) once their points are
built: manim keeps it although nothing reads it again, and every ``copy()`` of a number
(each ``Transform`` and ``FadeIn`` copies its mobjects) deep-copied that tree; without it
a copy is about 12× cheaper. Nothing on screen changes: the points, colours and TeX
strings are the same.

A finished ``MathTex`` is also kept, per process, as ``pickle`` bytes keyed by its
arguments (and the TeX template): the same number appears in several beats (``W`` in the
forward pass, the transpose, the update and the summary), and a hit costs 0.24 ms of
``pickle.loads`` against 1.8 ms to build it again from its cached glyphs (colouring,
splitting by substring, scaling). ``scenes/delta.py`` builds 617 ``MathTex`` of which 324
differ; on a 784-128-10 trace, 1,051 of which 403 differ.

The cache holds only what manim itself would have computed from the same files; deleting
``media/svg_cache`` is always safe. Files are written to a temporary name and renamed,
so parallel renders (``backprop lecture``) can share the folder.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import manim
from manim import MathTex, Mobject, Text, config
from manim.mobject.svg.svg_mobject import SVGMobject

_original_init_svg_mobject = SVGMobject.init_svg_mobject
_original_mathtex_init = MathTex.__init__
build_mathtex = _original_mathtex_init
"""``MathTex.__init__`` as manim has it: builds, never copies (what asks manim itself)."""
_blobs: dict[str, bytes] = {}
_tex_blobs: dict[str, bytes] = {}


def drop_svg_sources(mob: Mobject) -> None:
    """Forget the ``svgelements`` path each glyph of ``mob`` keeps after building."""
    for m in mob.get_family():
        if getattr(m, "path_obj", None) is not None:
            m.path_obj = None  # type: ignore[attr-defined]


def cache_dir() -> Path:
    return Path(config.media_dir) / "svg_cache"


def cache_key(mob: SVGMobject) -> str:
    """A key that is the same in every process for the same SVG and options."""
    digest = hashlib.sha256(repr((manim.__version__, mob.hash_seed)).encode())
    digest.update(mob.get_file_path().read_bytes())
    return digest.hexdigest()[:32]


def _read(key: str) -> bytes | None:
    try:
        return (cache_dir() / f"{key}.pickle").read_bytes()
    except OSError:
        return None


def _write(key: str, blob: bytes) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}-")
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(tmp, folder / f"{key}.pickle")
    except OSError:
        pass  # a cache that cannot be written only costs time


def _init_svg_mobject(self: SVGMobject, use_svg_cache: bool) -> Any:
    """Manim's ``init_svg_mobject`` with the cache on disk and cheap hits."""
    # Text asks manim not to cache, but its file is named after a hash of the text and
    # its settings, so the file identifies the glyphs as well as for MathTex.
    if not (use_svg_cache or isinstance(self, Text)) or self.file_name is None:
        _original_init_svg_mobject(self, use_svg_cache)
        drop_svg_sources(self)
        return self
    key = cache_key(self)
    blob = _blobs.get(key) or _read(key)
    if blob is not None:
        try:
            cached = pickle.loads(blob)
        except Exception:  # written by another version of a dependency: rebuild it
            blob = None
        else:
            _blobs[key] = blob
            self.add(*cached)
            self.id_to_vgroup_dict = cached.id_to_vgroup_dict
            return self
    _original_init_svg_mobject(self, use_svg_cache=False)
    drop_svg_sources(self)
    try:
        blob = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a subclass holding something unpicklable is simply not cached
        return self
    _blobs[key] = blob
    _write(key, blob)
    return self


def _mathtex_init(self: MathTex, *tex_strings: str, **kwargs: Any) -> None:
    """``MathTex.__init__``, or a copy of the same ``MathTex`` built earlier in this process.

    Only ``MathTex`` itself is copied (a subclass may do more in its own ``__init__``).
    The key is the ``repr`` of the arguments, the TeX template's text and the renderer;
    an argument whose ``repr`` names an address simply never hits.
    """
    if type(self) is not MathTex:
        _original_mathtex_init(self, *tex_strings, **kwargs)
        return
    template = kwargs.get("tex_template") or config.tex_template
    options = sorted((k, v) for k, v in kwargs.items() if k != "tex_template")
    key = repr((tex_strings, options, template.body, config.renderer))
    blob = _tex_blobs.get(key)
    if blob is not None:
        self.__dict__.update(pickle.loads(blob).__dict__)
        self.tex_template = template  # the caller's template object, as a build keeps it
        return
    _original_mathtex_init(self, *tex_strings, **kwargs)
    try:
        _tex_blobs[key] = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something unpicklable among the options: not kept
        pass


def install() -> None:
    """Route every ``SVGMobject`` through the disk cache and copy repeated ``MathTex``.

    Replaces two manim methods for the whole process; only
    :func:`backprop_anim.tuning.enable` calls it, after checking that they are the ones
    this module was written for.
    """
    SVGMobject.init_svg_mobject = _init_svg_mobject  # type: ignore[method-assign]
    MathTex.__init__ = _mathtex_init  # type: ignore[method-assign]
