"""Speed-ups of manim's Cairo renderer and SVG handling, with the same pixels."""
