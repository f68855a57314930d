"""The ``backprop`` command: the engine, the lecture pipeline and manim's CLI behind one
set of typed options (:mod:`.cli`)."""
