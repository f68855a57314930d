"""backprop-anim's engine: backpropagation in matrix form, recorded as a trace.

Pure NumPy; it never imports manim (a test proves it), so traces can be computed,
exported and checked anywhere. See :mod:`backprop_core.network` for the notation.
"""

from __future__ import annotations

from backprop_core.config import Config, load_config, load_preset, preset_names
from backprop_core.errors import BackpropError
from backprop_core.io import load_trace, open_trace_writer, save_trace
from backprop_core.trace import LayerRecord, Step, Trace, run
from backprop_core.version import __version__

__all__ = [
    "BackpropError",
    "Config",
    "LayerRecord",
    "Step",
    "Trace",
    "__version__",
    "load_config",
    "load_preset",
    "load_trace",
    "open_trace_writer",
    "preset_names",
    "run",
    "save_trace",
]
