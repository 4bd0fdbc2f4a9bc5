"""Entry point of `python -m core …`: the commands live in ops (exempt by name from the layer rule)."""

from ops.cli import main

raise SystemExit(main())
