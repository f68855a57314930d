"""The network diagram: neurons in columns, one edge per weight, large layers elided.

Layer ``l = 0..L`` is a column of circles; the edge from neuron ``k`` of layer ``l-1`` to
neuron ``j`` of layer ``l`` stands for ``W^(l)[j, k]`` (Nielsen's convention). Layers
taller than ``max_neurons`` show their first neurons, a ``⋮`` and the last neuron, with
the true size under the column, as 3Blue1Brown's network does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    UP,
    Circle,
    Line,
    ManimColor,
    MathTex,
    VGroup,
)
from numpy.typing import NDArray

from backprop_anim.style import DEFAULT_STYLE, MAX_ROWS, SMALL_SIZE, Style
from backprop_explain.elide import Index, visible_indices

MIN_EDGE_WIDTH = 0.8
MAX_EDGE_WIDTH = 6.0


def edge_style(
    value: float, scale: float, style: Style = DEFAULT_STYLE
) -> tuple[ManimColor, float]:
    """Colour (sign: ``style.positive``/``style.negative``) and stroke width (grows with
    ``|value| / scale``) of an edge."""
    color = style.positive if value >= 0 else style.negative
    frac = 0.0 if scale <= 0 else min(abs(value) / scale, 1.0)
    return color, MIN_EDGE_WIDTH + frac * (MAX_EDGE_WIDTH - MIN_EDGE_WIDTH)


class NetworkDiagram(VGroup):
    """Neurons and edges of a network of layer sizes ``sizes`` (input first).

    Parameters
    ----------
    sizes
        ``(n_0, ..., n_L)``.
    weights
        Optional ``W^(l)`` arrays: edges then take the colour of the weight's sign and a
        width growing with its size (:func:`edge_style`); without them edges are plain.
    max_neurons
        Taller layers are elided.
    layer_buff, neuron_buff, radius
        Spacing between columns, between neurons, and the neurons' radius
        (:meth:`fitted` chooses the spacing that fills a box).
    label_buff
        Space between the lowest neuron and the size labels ``n_l = …``.
    style
        Colours: neurons and labels in ``style.text``, plain edges in ``style.weight``,
        weighted edges in ``style.positive``/``style.negative``.

    Examples
    --------
    >>> from backprop_anim import NetworkDiagram, registry
    >>> step = registry(preset="delta-demo").step
    >>> net = NetworkDiagram([2, 3, 2], weights=[layer.W for layer in step.layers])
    >>> edge = net.get_edge(2, 0, 1)   # W^(2)[0, 1]: neuron 1 of layer 1 to neuron 0 of layer 2
    >>> edge.get_color() == net.style.negative    # W^(2)[0, 1] = -0.2 < 0
    True
    """

    def __init__(
        self,
        sizes: Sequence[int],
        weights: Sequence[NDArray[np.float64]] | None = None,
        *,
        max_neurons: int = MAX_ROWS,
        layer_buff: float = 1.6,
        neuron_buff: float = 0.22,
        radius: float = 0.2,
        label_buff: float = 0.25,
        style: Style = DEFAULT_STYLE,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.style = style
        self.sizes = tuple(sizes)
        self.indices: list[list[Index]] = [visible_indices(n, max_neurons) for n in self.sizes]
        self._neurons: dict[tuple[int, int], Circle] = {}
        self._edges: dict[tuple[int, int, int], Line] = {}
        self.layers = VGroup(
            *(self._build_layer(l, radius, neuron_buff) for l in range(len(sizes)))
        )
        self.layers.arrange(RIGHT, buff=layer_buff)
        self.edges = VGroup(*(self._build_edges(l) for l in range(1, len(sizes))))
        self.size_labels = VGroup(
            *(
                MathTex(rf"n_{{{l}}} = {n}", font_size=SMALL_SIZE, color=style.text).next_to(
                    self.layers[l], DOWN, buff=0.25
                )
                for l, n in enumerate(self.sizes)
            )
        )
        # One baseline for all size labels, under the tallest column.
        bottom = min(column.get_bottom()[1] for column in self.layers)
        for label in self.size_labels:
            label.set_y(bottom - label_buff - label.height / 2)
        self.add(self.edges, self.layers, self.size_labels)
        if weights is not None:
            self.set_weights(weights)

    @classmethod
    def fitted(
        cls,
        sizes: Sequence[int],
        width: float,
        height: float,
        *,
        radius: float,
        weights: Sequence[NDArray[np.float64]] | None = None,
        max_neurons: int = MAX_ROWS,
        max_layer_buff: float = 3.0,
        max_neuron_buff: float = 1.2,
        label_buff: float = 0.25,
        style: Style = DEFAULT_STYLE,
    ) -> NetworkDiagram:
        """A diagram that spreads over a ``width × height`` box (size labels included)
        with neurons of ``radius``: the box sets the spacing, never the size.

        Scaling a built diagram to a box would scale the neurons and whatever is written
        in them with it; here the neurons keep the radius their labels need and the
        columns and rows move apart until the box is used (at most ``max_layer_buff``
        between columns and ``max_neuron_buff`` between neurons, so a small network does
        not turn into a sparse one). A box too small for the neurons gives the tightest
        spacing and a diagram wider or taller than the box; ``weights``, ``max_neurons``
        ``label_buff`` and ``style`` are :class:`NetworkDiagram`'s.

        Examples
        --------
        >>> from backprop_anim import NetworkDiagram
        >>> net = NetworkDiagram.fitted([2, 3, 2], width=6.0, height=4.0, radius=0.4)
        >>> [round(float(x), 6) for x in (net.width, net.height, net.get_neuron(0, 0).width)]
        [6.0, 4.0, 0.8]
        """
        tight = cls(
            sizes,
            radius=radius,
            layer_buff=0.0,
            neuron_buff=0.0,
            max_neurons=max_neurons,
            label_buff=label_buff,
            style=style,
        )
        gaps = max(len(sizes) - 1, 1)
        rows = max(len(column) for column in tight.layers)
        # The width at spacing b: the columns, the gaps, and the size labels that stick
        # out of the first and the last column.
        columns = sum(column.width for column in tight.layers)
        out = [
            max(0.0, (label.width - column.width) / 2)
            for label, column in ((tight.size_labels[0], tight.layers[0]),
                                  (tight.size_labels[-1], tight.layers[-1]))
        ]  # fmt: skip
        spare = width - columns - sum(out)
        layer_buff = min(max(spare / gaps, 2 * radius), max_layer_buff)
        neuron_buff = radius / 2
        if rows > 1:
            spare = height - tight.height
            neuron_buff = min(max(spare / (rows - 1), radius / 2), max_neuron_buff)
        return cls(
            sizes,
            weights,
            radius=radius,
            layer_buff=layer_buff,
            neuron_buff=neuron_buff,
            max_neurons=max_neurons,
            label_buff=label_buff,
            style=style,
        )

    def _build_layer(self, l: int, radius: float, buff: float) -> VGroup:
        column = VGroup()
        for j in self.indices[l]:
            if j is None:
                column.add(MathTex(r"\vdots", font_size=SMALL_SIZE + 8, color=self.style.text))
                continue
            neuron = Circle(radius=radius, color=self.style.text, stroke_width=2)
            self._neurons[(l, j)] = neuron
            column.add(neuron)
        return column.arrange(DOWN, buff=buff)

    def _build_edges(self, l: int) -> VGroup:
        group = VGroup()
        for j in self.indices[l]:
            for k in self.indices[l - 1]:
                if j is None or k is None:
                    continue
                start, end = self._neurons[(l - 1, k)], self._neurons[(l, j)]
                edge = Line(
                    start.get_right(),
                    end.get_left(),
                    stroke_width=MIN_EDGE_WIDTH,
                    color=self.style.weight,
                    stroke_opacity=0.7,
                )
                self._edges[(l, j, k)] = edge
                group.add(edge)
        return group

    @property
    def num_layers(self) -> int:
        """``L``."""
        return len(self.sizes) - 1

    def set_weights(
        self, weights: Sequence[NDArray[np.float64]], scale: float | None = None
    ) -> NetworkDiagram:
        """Colour and thicken every shown edge by its weight (one scale for the network).

        ``scale`` is the ``|w|`` drawn at full width; by default the largest ``|w|`` of
        ``weights``. Pass a fixed one to compare widths across iterations. Any per-edge
        arrays of the weights' shapes work (the network scene draws ``∂C/∂W`` this way).
        """
        if scale is None:
            scale = max(float(np.max(np.abs(W))) for W in weights) or 1.0
        for (l, j, k), edge in self._edges.items():
            color, width = edge_style(float(weights[l - 1][j, k]), scale, self.style)
            edge.set_stroke(color=color, width=width)
        return self

    def edges_styled(
        self, values: Sequence[NDArray[np.float64]], scale: float | None = None
    ) -> VGroup:
        """A copy of the edges styled by ``values`` (one array per layer, as
        :meth:`set_weights`): the target of ``Transform(diagram.edges, ...)``, so edges
        change between prepared states."""
        target = self.copy()
        target.set_weights(values, scale=scale)
        return target.edges

    def get_neuron(self, l: int, j: int) -> Circle:
        """Neuron ``j`` of layer ``l`` (``KeyError`` if elided)."""
        return self._neurons[(l, j)]

    def has_neuron(self, l: int, j: int) -> bool:
        return (l, j) in self._neurons

    def get_layer(self, l: int) -> VGroup:
        """The column of layer ``l`` (neurons and any ``⋮``)."""
        column = self.layers[l]
        assert isinstance(column, VGroup)
        return column

    def get_edge(self, l: int, j: int, k: int) -> Line:
        """The edge of ``W^(l)[j, k]``: neuron ``k`` of layer ``l-1`` to neuron ``j`` of ``l``."""
        return self._edges[(l, j, k)]

    def has_edge(self, l: int, j: int, k: int) -> bool:
        return (l, j, k) in self._edges

    def get_edges(self, l: int) -> VGroup:
        """All shown edges of ``W^(l)``."""
        edges = self.edges[l - 1]
        assert isinstance(edges, VGroup)
        return edges

    def shown_neurons(self, l: int) -> list[int]:
        """True indices of the neurons drawn in layer ``l``."""
        return [j for j in self.indices[l] if j is not None]

    def layer_label(self, l: int, tex: str, font_size: float = SMALL_SIZE) -> MathTex:
        """A label over layer ``l`` (e.g. ``a^{(1)}``)."""
        label = MathTex(tex, font_size=font_size, color=self.style.text)
        return label.next_to(self.layers[l], UP, buff=0.25)
