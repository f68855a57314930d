"""backprop-anim's scene kit: style, inputs, number registry and mobjects for manim.

Scenes in ``scenes/`` import from here; :mod:`backprop_core` never imports this.
Importing the kit makes manim's SVG cache persistent and its copies cheap (see
:mod:`backprop_anim.svgcache`): every scene parses each glyph once, ever.
"""

from backprop_anim import svgcache

svgcache.install()
