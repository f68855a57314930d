"""What a trace's numbers mean on screen and on paper: pure logic shared by the scene kit
and the lecture pipeline.

Named quantities of a step and their provenance (:mod:`.explain`), how a number is
printed (:mod:`.format`), which entries of a large matrix are shown (:mod:`.elide`), the
question's own scalar story (:mod:`.question`) and decision regions (:mod:`.regions`).
It imports the engine and NumPy only, never manim.
"""
