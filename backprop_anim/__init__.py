"""backprop-anim's scene kit: style, inputs, number registry and mobjects for manim.

Scenes in ``scenes/`` import from here; :mod:`backprop_core` never imports this.
"""
