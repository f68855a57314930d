"""Reading and writing video with PyAV (and Pillow): joining parts, section stills, the GIF."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from backprop_core.files import atomic_path

PREVIEW_SCENE = "delta"


PREVIEW_SECONDS = 6.0


PREVIEW_FPS = 8


PREVIEW_WIDTH = 320


def video_frames(path: Path) -> tuple[Fraction, int]:
    """``(frames per second, number of frames)`` of a video's first stream."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rate = Fraction(s.base_rate or s.average_rate or 0)
        frames = s.frames or sum(1 for _ in c.demux(s) if _.size)
        return rate, int(frames)


STILL_INK = 0.5
"""A section's still holds at least this share of the ink (non-background pixels) of the
section's fullest candidate frame; see :func:`section_still`."""


def _luma(frame: Any) -> Any:
    """The luma plane sampled every 4th pixel (no colour conversion: this runs on every
    frame of every section)."""
    import numpy as np

    plane = frame.planes[0]
    luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return luma[::4, : plane.width : 4].astype(np.int16)


def section_still(path: Path) -> Any:
    """The still of a section: its finished board, usually its last frame.

    A beat often ends by fading its board out, may begin with the previous beat's board
    still on screen, and a still caught mid-transform shows half-moved symbols: none of
    these makes a slide or a thumbnail. So the still is the last *settled* frame (equal
    to the frame before it: a hold, or the end of an animation) of the section's second
    half whose ink (non-background pixels) is at least :data:`STILL_INK` of the fullest
    such frame. Without settled frames there, settled frames anywhere; without those,
    any frame. One pass: the latest frame above the threshold of the fullest frame *so
    far* is, at the end, the latest above the final threshold (a later, fuller frame
    would have replaced it).
    """
    import av

    # (late and settled, settled, any) -> (top ink so far, chosen frame)
    best: dict[str, tuple[float, Any]] = {}
    previous = None
    with av.open(str(path)) as c:
        half = (c.streams.video[0].frames or 0) // 2
        for i, frame in enumerate(c.decode(video=0)):
            luma = _luma(frame)
            settled = previous is not None and float(abs(luma - previous).mean()) < 0.02
            previous = luma
            ink = float((luma > 32).mean())
            kinds = ["any"] + (["settled"] if settled else [])
            kinds += ["late"] if settled and i >= half else []
            for kind in kinds:
                top, chosen = best.get(kind, (0.0, None))
                top = max(top, ink)
                best[kind] = (top, frame if ink >= STILL_INK * top else chosen)
    for kind in ("late", "settled", "any"):
        if kind in best:
            return best[kind][1].to_image()
    raise ValueError(f"{path} has no frames")


def _signature(stream: Any) -> tuple[Any, ...]:
    cc = stream.codec_context
    return (
        cc.name,
        cc.width,
        cc.height,
        cc.pix_fmt,
        Fraction(stream.base_rate or 0),
        stream.time_base,
        bytes(cc.extradata or b""),
    )


def join_videos(inputs: Sequence[Path], out: Path) -> str:
    """Join videos in order into ``out``; returns ``"remux"`` or ``"re-encode"``.

    When every input's stream has the same codec, size, pixel format, frame rate, time
    base and codec headers (all parts rendered at one quality do), packets are copied with
    their timestamps shifted by the duration of the parts before them: no quality loss and
    about as fast as copying the files. Otherwise the frames are decoded and re-encoded.
    """
    import av

    out.parent.mkdir(parents=True, exist_ok=True)
    containers = [av.open(str(p)) for p in inputs]
    try:
        streams = [c.streams.video[0] for c in containers]
        same = len({_signature(s) for s in streams}) == 1
        with atomic_path(out, suffix=".mp4") as tmp, av.open(str(tmp), "w") as output:
            if same:
                _remux(containers, streams, output)
            else:
                _reencode(containers, streams, output)
    finally:
        for c in containers:
            c.close()
    return "remux" if same else "re-encode"


def _remux(containers: Sequence[Any], streams: Sequence[Any], output: Any) -> None:
    ostream = output.add_stream_from_template(streams[0])
    offset = 0
    for c, s in zip(containers, streams, strict=True):
        packets = [p for p in c.demux(s) if p.dts is not None]
        if not packets:
            continue
        start = min(p.pts for p in packets if p.pts is not None)
        end = max(p.pts + (p.duration or 0) for p in packets if p.pts is not None)
        # A part lasts its frame count at the nominal rate (the last frame's packet may be
        # a few ticks short), so part starts here agree with the subtitles and chapters.
        ticks = len(packets) / (Fraction(s.base_rate or 1) * s.time_base)
        length = int(ticks) if ticks.denominator == 1 else end - start
        for p in packets:
            p.pts = p.pts - start + offset
            p.dts = p.dts - start + offset
            p.stream = ostream
            output.mux(p)
        offset += length


def _reencode(containers: Sequence[Any], streams: Sequence[Any], output: Any) -> None:
    first = streams[0]
    rate = Fraction(first.base_rate or 15)
    ostream = output.add_stream("libx264", rate=rate)
    ostream.width = first.codec_context.width
    ostream.height = first.codec_context.height
    ostream.pix_fmt = "yuv420p"
    index = 0
    for c, s in zip(containers, streams, strict=True):
        for frame in c.decode(s):
            frame = frame.reformat(width=ostream.width, height=ostream.height, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1) / rate
            index += 1
            for packet in ostream.encode(frame):
                output.mux(packet)
    for packet in ostream.encode(None):
        output.mux(packet)


def video_duration(path: Path) -> float:
    """Seconds of video in a file, from its frame count and rate."""
    rate, frames = video_frames(path)
    return float(frames / rate)


def preview_gif(
    video: Path,
    out: Path,
    start: float = 0.0,
    seconds: float = PREVIEW_SECONDS,
    fps: int = PREVIEW_FPS,
    width: int = PREVIEW_WIDTH,
) -> int:
    """A short, small looping GIF from ``video`` (frames scaled down by PyAV, written by
    Pillow); returns the number of frames. Much lighter than manim's own GIF writer."""
    import av

    images = []
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        rate = float(s.base_rate or 15)
        step = max(1, round(rate / fps))
        first = int(start * rate)
        count = int(seconds * rate)
        height = 0
        for i, frame in enumerate(c.decode(s)):
            if i < first:
                continue
            if i >= first + count:
                break
            if (i - first) % step:
                continue
            if not height:
                height = round(frame.height * width / frame.width / 2) * 2
            small = frame.reformat(width=width, height=height, format="rgb24")
            images.append(small.to_image())  # type: ignore[no-untyped-call]
    if not images:
        raise ValueError(f"{video} has no frames after {start:.1f} s")
    palette = [im.quantize(colors=64) for im in images]
    with atomic_path(out, suffix=".gif") as tmp:
        palette[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=palette[1:],
            duration=round(1000 * step / rate),
            loop=0,
            optimize=True,
        )
    return len(images)
