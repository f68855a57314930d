"""The scenes, one per file: ``manim render scenes/delta.py`` in the repository.

Installed, this folder is the package ``backprop_scenes`` (``pyproject.toml`` maps it), so
``backprop render delta`` and the default lecture find the scene files outside the
repository. Nothing here is imported to render: manim loads each file by its path.
"""
