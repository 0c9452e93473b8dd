"""``python -m pdplan`` runs the command-line interface."""

from __future__ import annotations

from pdplan.cli import main

if __name__ == "__main__":
    main()
