"""A board for scenes that explain on a blackboard: a heading, one arrangement at a time.

:class:`BoardScene` holds what every such scene needs: a heading that cross-fades from
beat to beat (:meth:`~BoardScene.set_heading`), placing an arrangement under it
(:meth:`~BoardScene.place`), revealing and clearing by *curtains* (rectangles of the
background colour, see :meth:`~BoardScene.curtain`), the layout record the tests check
(:meth:`~BoardScene.record`), the trace's facts (``L``, ``m``, sizes, activations) and
the notation (``a^{(l)}``, or ``A^{(l)}`` for a batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from manim import (
    DOWN,
    UL,
    Animation,
    AnimationGroup,
    FadeOut,
    LaggedStart,
    ManimColor,
    MarkupText,
    MathTex,
    Mobject,
    Rectangle,
    SingleStringMathTex,
    Text,
    Transform,
    VGroup,
    VMobject,
    config,
    rush_from,
    smooth,
    there_and_back_with_pause,
)

from backprop_anim import style
from backprop_anim.flights import DIMMED, Course
from backprop_anim.layout import Box, Layout, bounding_box, boxes_overlap, fit_to_frame
from backprop_anim.mobjects import TraceMatrix, labelled
from backprop_anim.products import Factor, Num, round_trip_decimals
from backprop_anim.scene import TraceScene
from backprop_explain import equations
from backprop_explain.provenance import Quantity

MAX_GROW = 1.35
"""How much :meth:`BoardScene.place` may enlarge a small arrangement."""
MARGIN = 0.3
FRAME_W, FRAME_H = 14.2, 8.0

READ = 1.5
"""Pause after a result, so it can be read (a frozen frame: nearly free to render)."""
CLEAR_TIME = 0.5
"""How long :meth:`BoardScene.clear` takes to fade the screen out."""


@dataclass(frozen=True)
class Elision:
    """How much of a board's matrices is shown: the limits of
    :func:`~backprop_explain.elide.visible_indices` and the column spacing."""

    max_rows: int = style.MAX_ROWS
    max_cols: int = style.MAX_COLS
    max_batch: int = style.MAX_BATCH
    h_buff: float = 1.3
    v_buff: float = 0.6
    buff: float = 0.3
    """The space between the parts of an equation's row (matrices, operators)."""
    wrap: bool = False
    """Whether an equation's row too wide for the frame breaks into two rows."""


ELISIONS = (
    Elision(),
    Elision(5, 5),
    Elision(4, 4),
    Elision(4, 4, h_buff=1.05, v_buff=0.5, buff=0.2),
    Elision(4, 4, h_buff=1.0, v_buff=0.45, buff=0.2),
    Elision(4, 4, h_buff=1.0, v_buff=0.45, buff=0.2, wrap=True),
)
"""From the fullest to the most compact: :meth:`BoardScene.legibly` builds a board with the
first one that keeps its numbers at :data:`~backprop_anim.style.MIN_DIGIT_HEIGHT` or more.
Every limit is at least 4, so the first two and the last index of a dimension are always
shown: an entry chosen among those is on screen whichever elision a board uses."""
TIGHTEST = ELISIONS[-1]


FLIGHT = 0.5
"""A text that moves at least this far (units) in one play is in flight (see
:meth:`BoardScene.flight_dimming`)."""
TEXTS = (SingleStringMathTex, Text, MarkupText)


def texts(mob: Mobject) -> Iterator[Mobject]:
    """The outermost texts in ``mob``'s family (a formula, not its glyphs)."""
    if isinstance(mob, TEXTS):
        yield mob
        return
    for sub in mob.submobjects:
        yield from texts(sub)


def digit_height(mob: Mobject) -> float:
    """The height of a ``0`` of ``mob``'s font size (a TeX or Pango text), in units."""
    kind = Text if isinstance(mob, (Text, MarkupText)) else MathTex
    zero = _zero(kind)
    return float(getattr(mob, "font_size")) * zero  # noqa: B009  # Mobject types no font


_ZEROS: dict[type, float] = {}


def _zero(kind: type) -> float:
    if kind not in _ZEROS:
        zero = kind("0")
        _ZEROS[kind] = float(zero.height / zero.font_size)
    return _ZEROS[kind]


def flies(mob: Mobject, target: Mobject) -> bool:
    """Whether moving ``mob`` onto ``target`` is a flight (at least :data:`FLIGHT`)."""
    return float(((mob.get_center() - target.get_center()) ** 2).sum()) >= FLIGHT**2


def _meets(a: Box, b: Box, by: float = 0.05) -> bool:
    """Whether two boxes overlap by more than ``by`` both ways (a text that only grazes
    where a flight starts or lands is still passed over)."""
    return min(a[2], b[2]) - max(a[0], b[0]) > by and min(a[3], b[3]) - max(a[1], b[1]) > by


def _is_number(mob: Mobject) -> bool:
    """A text with a digit (a number, an indexed symbol, a shape), not a bracket: what two
    of would read as one garbled number when printed over each other."""
    text = str(getattr(mob, "tex_string", None) or getattr(mob, "text", ""))
    return any(c.isdigit() for c in text) and not text.lstrip().startswith(("\\left", "\\right"))


def _leaves(animations: Sequence[Any]) -> Iterator[Any]:
    for a in animations:
        if isinstance(a, AnimationGroup):
            yield from _leaves(a.animations)
        else:
            yield a


class TooSmallError(Exception):
    """Raised by :meth:`BoardScene.place` when a more compact elision would keep the
    board's numbers legible (caught by :meth:`BoardScene.legibly`)."""


class BoardScene(TraceScene):
    """A :class:`TraceScene` shown as a board: heading, placing, reveal, clear, curtains.

    Subclasses write ``construct()`` as beats; each arrangement is built, placed with
    :meth:`place`, recorded with :meth:`record`, brought in with :meth:`reveal` and taken
    away with :meth:`clear`.
    """

    def setup(self) -> None:
        super().setup()
        self.layouts: list[Layout] = []
        """Every arrangement shown, for the tests' fit and overlap checks."""
        self.heading: Mobject | None = None
        self.covers: dict[int, Rectangle] = {}
        """Covers on screen, by id (see :meth:`cover`)."""
        self.leaving: list[Mobject] = []
        """What :meth:`clear` sent away and is still on screen (see :meth:`flush`)."""
        self.changing_heading = False
        """True while a title changes (or a board leaves): such a play does not flush."""
        self.board_left = False
        """True from a board's fade-out to the next :meth:`reveal`."""
        self.elision = ELISIONS[0]
        """The elision :meth:`matrix` builds with (see :meth:`legibly`)."""
        self.fallback: Elision | None = None
        """While :meth:`legibly` builds a board: a more compact elision to try, if any."""

    # -----------------------------------------------------------------------------------
    # Facts about the trace (read, never computed)
    # -----------------------------------------------------------------------------------

    @property
    def L(self) -> int:
        return len(self.step.layers)

    @property
    def m(self) -> int:
        return int(self.step.input.shape[1])

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self.trace.config.sizes)

    @property
    def has_bias(self) -> bool:
        return bool(self.trace.config.bias)

    def activation(self, l: int) -> str:
        return str(self.trace.config.activations[l - 1])

    @property
    def softmax_output(self) -> bool:
        return self.activation(self.L) == "softmax"

    @property
    def softmax_ce(self) -> bool:
        return self.softmax_output and self.trace.config.loss == "cross_entropy"

    # -----------------------------------------------------------------------------------
    # Notation helpers
    # -----------------------------------------------------------------------------------

    @property
    def output(self) -> equations.Output:
        """How BP1 reads for this trace's output layer (see :func:`equations.bp1`)."""
        if self.softmax_ce:
            return "softmax_ce"
        return "softmax" if self.softmax_output else "elementwise"

    def sym(self, base: str, l: int | str, t: bool = False) -> str:
        """``a^{(l)}``, or the batch matrix ``A^{(l)}`` when there are several samples."""
        return equations.sym(base, l, batch=self.m > 1, t=t)

    def act_color(self, l: int) -> ManimColor:
        return style.INPUT_COLOR if l == 0 else style.ACTIVATION_COLOR

    def factor(self, quantity: Quantity, l: int, transpose: bool = False) -> Factor:
        """An operand of a product, in its quantity's colour (``a`` of layer 0 is the input's)."""
        color = self.act_color(l) if quantity == "a" else _COLORS[quantity]
        return Factor(quantity, l, color, transpose)

    def matrix(
        self, name: str, color: ManimColor, tex: str, **kwargs: object
    ) -> tuple[VGroup, TraceMatrix]:
        """A trace matrix with its symbol above and its true shape below (as large as the
        symbol: both must stay legible when the board is scaled to fit)."""
        mat = self.trace_matrix(name, color, **kwargs)
        return labelled(mat, tex, badge_size=style.SMALL_SIZE + 6), mat

    def trace_matrix(self, name: str, color: ManimColor, **kwargs: object) -> TraceMatrix:
        """A :class:`TraceMatrix` elided as :attr:`elision` says (unless told otherwise)."""
        e = self.elision
        batch_like = name.rstrip("0123456789") in TraceMatrix.BATCH_LIKE
        cols = e.max_batch if batch_like and not kwargs.get("transpose") else e.max_cols
        kwargs.setdefault("max_rows", e.max_rows)
        kwargs.setdefault("max_cols", cols)
        kwargs.setdefault("h_buff", e.h_buff)
        kwargs.setdefault("v_buff", e.v_buff)
        return TraceMatrix(self.numbers, name, color, **kwargs)  # type: ignore[arg-type]

    def legibly(self, board: Callable[..., None], *args: Any) -> None:
        """Run ``board(*args)`` with the fullest elision of :data:`ELISIONS` at which
        :meth:`place` keeps its numbers legible (:data:`~backprop_anim.style.MIN_DIGIT_HEIGHT`).

        A board too small for its matrices raises :class:`TooSmallError` from :meth:`place`,
        before anything of it is shown; what it registered is forgotten and it is built
        again, more compactly. The board's heading is set again with the same text, which
        changes nothing on screen (see :meth:`set_heading`).
        """
        for n, elision in enumerate(ELISIONS):
            mark = self.numbers.mark()
            self.elision = elision
            self.fallback = ELISIONS[n + 1] if n + 1 < len(ELISIONS) else None
            try:
                board(*args)
                return
            except TooSmallError:
                self.numbers.rollback(mark)
            finally:
                self.elision, self.fallback = ELISIONS[0], None

    @staticmethod
    def smallest_text(body: Mobject) -> float:
        """The digit height of the smallest text (number, label, formula) in ``body``."""
        return min((digit_height(t) for t in texts(body)), default=float("inf"))

    @staticmethod
    def shell(group: VGroup, mat: TraceMatrix) -> VGroup:
        """A labelled matrix without its numbers (they arrive by animation)."""
        return VGroup(group[0], mat.get_shell(), group[2])

    def op(self, tex: str) -> MathTex:
        return MathTex(tex, font_size=style.BODY_SIZE + 4, color=style.TEXT_COLOR)

    def tex(
        self, tex: str, color: ManimColor = style.TEXT_COLOR, size: float = style.BODY_SIZE
    ) -> MathTex:
        return MathTex(tex, font_size=size, color=color)

    # -----------------------------------------------------------------------------------
    # Screen management
    # -----------------------------------------------------------------------------------

    def set_heading(self, text: str) -> Mobject:
        """The beat's title, top left; cross-fades from the previous one in place.

        By curtains (see :meth:`curtain`): a cover fades in over the old title while the new
        one, above that cover, is uncovered. On screen this is a cross-fade; manim redraws
        two rectangles and one title per frame instead of morphing every glyph of both
        (``FadeTransform`` of two titles cost 0.3 s a heading at ``-ql``). The board that
        :meth:`clear` sent away stays up under the new title until the next picture comes
        in, so a viewer never looks at a bare title; a board that leaves with its title
        fades out while the new title comes in.
        """
        old = self.heading
        if isinstance(old, Text) and old.text == text.replace(" ", "") and old in self.mobjects:
            return old  # the same title (a board built again, see legibly): nothing changes
        new = Text(text, font_size=style.TITLE_SIZE - 8, color=style.TEXT_COLOR)
        new.to_corner(UL, buff=0.3)
        leaving = {id(m) for m in self.leaving}
        if old is not None and old in self.mobjects and id(old) not in leaving:
            cover = self.curtain(old).set_fill(opacity=0.0)
            self.add(cover)
            self.changing_heading = True
            self.play(cover.animate.set_fill(opacity=1.0), self.reveal(new), run_time=0.6)
            self.changing_heading = False
            self.remove(old, cover)
        else:
            fade, done = self.leave()
            self.changing_heading = True
            self.play(*fade, self.reveal(new), run_time=0.5)
            self.changing_heading = False
            done()
        self.heading = new
        return new

    def wrap(self, row: Sequence[VMobject] | VGroup, at: int) -> None:
        """Break an equation's ``row`` into two rows before its part ``at``, if the board's
        elision wraps (a row too wide for the frame at the legibility floor)."""
        if self.elision.wrap:
            VGroup(VGroup(*row[:at]), VGroup(*row[at:])).arrange(DOWN, buff=0.2)

    def fits(self, body: Mobject, grow: float = MAX_GROW) -> bool:
        """Whether :meth:`place` would keep every text of ``body`` at
        :data:`~backprop_anim.style.MIN_DIGIT_HEIGHT` or more (``body`` is not moved).

        A board that has a part it can do without (a picture beside its matrices) asks
        this at the tightest elision, where :meth:`place` has nothing left to try.
        """
        top = 0.0 if self.heading is None else self.heading.height + 0.5
        room_w, room_h = FRAME_W - 2 * MARGIN, FRAME_H - 2 * MARGIN - top
        factor = min(room_w / body.width, room_h / body.height, grow)
        return self.smallest_text(body) * factor >= style.MIN_DIGIT_HEIGHT

    def place(self, body: Mobject, grow: float = MAX_GROW) -> Mobject:
        """Fit ``body`` into the frame under the heading and centre it there.

        Small bodies grow (up to ``grow`` times) so they use the frame; large ones shrink,
        but inside :meth:`legibly` not so far that a number falls under the floor while a
        more compact elision is left to try (:class:`TooSmallError`).
        """
        top = 0.0 if self.heading is None else self.heading.height + 0.5
        room_w, room_h = FRAME_W - 2 * MARGIN, FRAME_H - 2 * MARGIN - top
        factor = min(room_w / body.width, room_h / body.height, grow)
        body.scale(factor)
        fit_to_frame(body, margin=MARGIN, max_height=room_h)
        if self.fallback is not None and self.smallest_text(body) < style.MIN_DIGIT_HEIGHT:
            raise TooSmallError
        body.move_to(DOWN * top / 2)
        return body

    def record(self, name: str, parts: Sequence[Mobject]) -> None:
        """Remember an arrangement so tests can check it fits and nothing overlaps."""
        beat = self.beats[-1] if self.beats else "?"
        heading = [self.heading] if self.heading is not None else []
        self.layouts.append(Layout.of(beat, name, [*heading, *parts]))

    # Fading by curtains: on a plain background, fading a rectangle of the background
    # colour over a group looks exactly like fading the group, but manim then copies one
    # rectangle instead of every glyph of every matrix (FadeIn/FadeOut copy their mobject
    # twice); this halves the cost of a matrix beat.

    def curtain(self, mob: Mobject, pad: float = 0.04) -> Rectangle:
        """An opaque rectangle of the background colour over ``mob``'s bounding box."""
        x0, y0, x1, y1 = bounding_box(mob)
        rect = self.cover(x1 - x0 + 2 * pad, y1 - y0 + 2 * pad, opacity=1.0)
        return rect.move_to(((x0 + x1) / 2, (y0 + y1) / 2, 0.0))

    def cover(self, width: float, height: float, opacity: float) -> Rectangle:
        """A rectangle of the background colour whose place in the drawing order is kept
        (:meth:`play` never lifts it: it must stay over what it covers and under what
        is shown above it)."""
        rect = Rectangle(
            width=width,
            height=height,
            fill_color=config.background_color,
            fill_opacity=opacity,
            stroke_width=0,
        )
        self.covers[id(rect)] = rect
        return rect

    def reveal(self, *mobs: Mobject, lag_ratio: float = 0.0) -> Animation:
        """Put ``mobs`` on screen under curtains; the animation returned lifts them.

        What :meth:`clear` sent away fades out first (only a title changes over a board);
        the board that follows it then shows at once and settles (``rush_from``), so the
        screen between two boards is bare for a few frames only.
        """
        if not self.changing_heading:
            self.flush()
        rate = rush_from if self.board_left else smooth
        self.board_left = False
        covers = [self.curtain(m) for m in mobs]
        self.add(*mobs, *covers)
        return LaggedStart(*(FadeOut(c, rate_func=rate) for c in covers), lag_ratio=lag_ratio)

    def clear(  # type: ignore[override]  # manim's clear() removes all, unanimated
        self, keep: Sequence[Mobject | None] = (), end_of_beat: bool = False
    ) -> None:
        """Send away everything but ``keep``: it fades out as the next picture comes in.

        The board stays up until then (the next :meth:`reveal` or :meth:`play`; a new
        title from :meth:`set_heading` changes over it), so the screen is never left with
        a bare title while the next board is built. At the ``end_of_beat`` the board
        first stays up until the beat's narration has been shown, so a narration longer
        than its beat never runs on over an empty screen. ``None`` in ``keep`` (no
        heading) is ignored.
        """
        keep_ids = {id(m) for k in keep if k is not None for m in k.get_family()}
        gone = [m for m in self.mobjects if id(m) not in keep_ids]
        if end_of_beat:
            self.finish_beats()
        known = {id(m) for m in self.leaving}
        self.leaving += [m for m in gone if id(m) not in known]

    def leave(self) -> tuple[list[Any], Callable[[], None]]:
        """The fade-out of what :meth:`clear` sent away, and what to do once it has played."""
        gone = [m for m in self.leaving if m in self.mobjects]
        self.leaving = []
        if not gone:
            return [], lambda: None
        gone_ids = {id(m) for m in gone}
        cover = self.cover(FRAME_W + 1, FRAME_H + 1, opacity=0.0)
        self.add(cover)
        # What stays (and what came since) stays above the cover, in its order.
        self.bring_to_front(*(m for m in self.mobjects if id(m) not in gone_ids and m is not cover))

        def done() -> None:
            self.remove(*gone, cover)
            self.board_left = True
            self.covers = {k: c for k, c in self.covers.items() if c in self.mobjects}

        return [cover.animate.set_fill(opacity=1.0)], done

    def carry(self, *moves: Animation, run_time: float = 0.8) -> None:
        """Play ``moves`` (what the next board keeps, moving into its place) while what
        :meth:`clear` sent away fades out; the next :meth:`reveal` then brings in the rest.

        The kept matrices move over the board that leaves (what they pass over dims, see
        :meth:`flight_dimming`), never over the board that comes in, which would show
        dimmed under them as it appears.
        """
        fade, done = self.leave()
        self.changing_heading = True  # this play must not flush again
        self.play(*fade, *moves, run_time=run_time)
        self.changing_heading = False
        done()

    def flush(self) -> None:
        """Fade out now what :meth:`clear` sent away (nothing if nothing is leaving)."""
        fade, done = self.leave()
        if fade:
            self.changing_heading = True  # this play must not flush again
            self.play(*fade, run_time=CLEAR_TIME)
            self.changing_heading = False
            done()

    def play(self, *animations: Any, **kwargs: Any) -> None:
        """:meth:`Scene.play`, with what it animates on screen lifted to the top first.

        Manim redraws, every frame, the first animated mobject *and everything drawn after
        it*. A highlight fading out or an entry already on screen being transformed made
        it redraw every matrix and line added since (up to 240 glyphs for 10 animated).
        Lifting the animated mobjects to the top of the drawing order changes nothing on
        screen (layouts do not overlap, see :meth:`record`), except for covers, which are
        never lifted: they must stay between what they hide and what is above them.
        What :meth:`clear` sent away fades out first (see :meth:`flush`).
        """
        if not self.changing_heading:
            self.flush()
        on_screen = {id(m) for m in self.get_mobject_family_members()}
        lift: list[Mobject] = []

        def visit(items: Sequence[Any]) -> None:
            for item in items:
                if isinstance(item, AnimationGroup):
                    visit(item.animations)
                    continue
                mob = getattr(item, "mobject", None)
                if isinstance(mob, Mobject) and id(mob) in on_screen and id(mob) not in self.covers:
                    lift.append(mob)

        visit(animations)
        if lift:
            self.bring_to_front(*lift)
        if self.dim_under_flights:
            animations = (*animations, *self.flight_dimming(animations))
        super().play(*animations, **kwargs)

    dim_under_flights = False
    """Whether texts that a flying text passes over dim while it passes (see
    :meth:`flight_dimming`), so two numbers never print over each other."""

    def flight_dimming(self, animations: Sequence[Any]) -> list[Any]:
        """For the texts in flight in ``animations`` (a transform that moves a text at least
        :data:`FLIGHT`), the texts they may pass over, dimmed to :data:`DIMMED` for the middle
        of the play and back by its end.

        A flight stays in the box spanned by the boxes along its way (its start and its end
        if it is straight, the bulge of an arc too): the texts in such a box that show a
        digit dim (brackets and operators stay), except those where a
        flight starts or lands (the viewer follows
        them; a start or end of one flight still dims under another), texts that move
        themselves and the heading.
        """
        flights: list[Course] = []
        moving: set[int] = set()
        for a in _leaves(animations):
            mob = cast(Mobject, a.mobject)
            moving |= {id(m) for m in mob.get_family()}
            if not isinstance(a, Transform) or not any(True for _ in texts(mob)):
                continue
            target = a.target_mobject if a.target_mobject is not None else a.create_target()
            if target is None or not len(target.get_all_points()):
                continue
            if flies(mob, target):
                flights.append(Course(a))
        if not flights:
            return []
        spans = [(c.span, c.start, c.end) for c in flights]
        heading = {id(m) for m in self.heading.get_family()} if self.heading is not None else set()
        rate = partial(there_and_back_with_pause, pause_ratio=0.6)
        # As long as the longest of the play (an Apart whose flights wait runs longer).
        longest = max((float(getattr(a, "run_time", 1.0)) for a in animations), default=1.0)
        dims: list[Any] = []
        for top in self.mobjects:
            if id(top) in self.covers:
                continue
            for t in texts(top):
                if id(t) in moving or id(t) in heading or not _is_number(t):
                    continue
                box = bounding_box(t)
                if any(
                    boxes_overlap(box, span) and not _meets(box, start) and not _meets(box, end)
                    for span, start, end in spans
                ):
                    dim = cast(Any, t).animate(rate_func=rate, run_time=longest)
                    dims.append(dim.set_opacity(DIMMED))
        return dims

    def regroup(self, group: Mobject) -> None:
        """Swap a group's pieces on screen for the group itself, to move it as one."""
        family = {id(m) for m in group.get_family()}
        # A wrapper that brought some of the pieces (a shell revealed as one) goes too:
        # kept, it would draw them a second time.
        self.remove(
            *[
                m
                for m in self.mobjects
                if id(m) in family
                or (all(id(p) in family for p in m.get_family()[1:]) and len(m.get_family()) > 1)
            ]
        )
        self.add(group)

    @property
    def eta_decimals(self) -> int:
        """Decimals that write the learning rate exactly (``0.0007``)."""
        return round_trip_decimals(self.trace.config.learning_rate, 1)

    def eta_tex(self) -> Num:
        return Num("eta", style.TEXT_COLOR, decimals=self.eta_decimals)


_COLORS: dict[str, ManimColor] = {
    "W": style.WEIGHT_COLOR,
    "W_next": style.WEIGHT_COLOR,
    "b": style.BIAS_COLOR,
    "b_next": style.BIAS_COLOR,
    "z": style.Z_COLOR,
    "sigma_prime": style.SIGMA_PRIME_COLOR,
    "delta": style.DELTA_COLOR,
    "dW": style.GRADIENT_COLOR,
    "db": style.GRADIENT_COLOR,
    "grad_a": style.GRADIENT_COLOR,
    "y": style.TARGET_COLOR,
}
