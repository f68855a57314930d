"""``python -m backprop_core`` is the ``backprop`` command."""

from backprop_core.cli import main

main()
