"""``python -m backprop_cli`` is the ``backprop`` command."""

from backprop_cli.cli import main

main()
