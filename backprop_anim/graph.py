"""A computational graph: one node per quantity (``w``, ``z``, ``a``, ``C``), arrows for "feeds".

3Blue1Brown's chain-rule chapter draws the chain ``w → z → a → C`` as a small graph and
finds each factor of the chain rule on one of its arrows; :class:`ComputationalGraph` is
that picture, laid out on a grid (column, row) and coloured by quantity. Values are
attached under (or beside) nodes by the scene, as registered numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    Arrow,
    Circle,
    ManimColor,
    MathTex,
    VGroup,
    VMobject,
)

from backprop_anim.style import BODY_SIZE

NODE_RADIUS = 0.48


@dataclass(frozen=True)
class Node:
    """A quantity of the graph: its key, TeX symbol, colour and grid cell ``(column, row)``."""

    key: str
    tex: str
    color: ManimColor
    column: int
    row: int


class ComputationalGraph(VGroup):
    """Circles with symbols, on a grid, and arrows from each input to what it feeds.

    Parameters
    ----------
    nodes
        The quantities; two nodes must not share a cell.
    edges
        ``(from_key, to_key)`` pairs.
    col_buff, row_buff
        Space between grid columns and rows (between the node circles).

    Examples
    --------
    ::

        g = ComputationalGraph(
            [Node("w", "w", BLUE, 1, 0), Node("a0", "a^{(0)}", GREEN, 0, 1),
             Node("z", "z", TEAL, 1, 1)],
            [("w", "z"), ("a0", "z")],
        )
        g.get_node("z"); g.get_edge("w", "z")
        g.attach(value_mob, "z")          # under the node
    """

    def __init__(
        self,
        nodes: Sequence[Node],
        edges: Sequence[tuple[str, str]],
        *,
        col_buff: float = 0.95,
        row_buff: float = 0.7,
        radius: float = NODE_RADIUS,
        font_size: float = BODY_SIZE,
    ) -> None:
        super().__init__()
        columns = 1 + max(n.column for n in nodes)
        rows = 1 + max(n.row for n in nodes)
        cells = {(n.column, n.row): n for n in nodes}
        if len(cells) != len(nodes):
            raise ValueError("two nodes of a computational graph share a grid cell")
        # A grid of equal cells, laid out by manim; empty cells stay invisible placeholders.
        grid = VGroup(
            *(Circle(radius=radius).set_opacity(0) for _ in range(rows) for _ in range(columns))
        ).arrange_in_grid(rows=rows, cols=columns, buff=(col_buff, row_buff))
        # One scale for every symbol, so that z^(L) and a^(L-2) are typeset alike.
        labels = [MathTex(n.tex, font_size=font_size, color=n.color) for n in nodes]
        widest = max(label.width for label in labels)
        scale = min(1.0, 1.6 * radius / widest)
        self._nodes: dict[str, VGroup] = {}
        for node, label in zip(nodes, labels, strict=True):
            circle = Circle(radius=radius, color=node.color, stroke_width=3)
            circle.move_to(grid[node.row * columns + node.column])
            label.scale(scale).move_to(circle)
            self._nodes[node.key] = VGroup(circle, label)
        self._edges: dict[tuple[str, str], Arrow] = {}
        for a, b in edges:
            start, end = self._nodes[a][0], self._nodes[b][0]
            direction = end.get_center() - start.get_center()
            unit = direction / np.linalg.norm(direction)
            self._edges[(a, b)] = Arrow(
                start.get_center() + unit * radius,
                end.get_center() - unit * radius,
                buff=0.05,
                stroke_width=3,
                max_tip_length_to_length_ratio=0.2,
                color=start.get_color(),
            )
        self.edges = VGroup(*self._edges.values())
        self.nodes = VGroup(*self._nodes.values())
        self.values = VGroup()
        self.add(self.edges, self.nodes, self.values)

    def get_node(self, key: str) -> VGroup:
        """The node ``key``: its circle and its symbol."""
        return self._nodes[key]

    def get_edge(self, start: str, end: str) -> Arrow:
        """The arrow from ``start`` to ``end`` (``KeyError`` if they are not joined)."""
        return self._edges[(start, end)]

    def attach(self, mob: VMobject, key: str, direction: np.ndarray = DOWN) -> VMobject:
        """Place ``mob`` (a value) next to node ``key`` and keep it with the graph."""
        mob.next_to(self._nodes[key], direction, buff=0.12)
        self.values.add(mob)
        return mob


__all__ = ["ComputationalGraph", "Node"]
