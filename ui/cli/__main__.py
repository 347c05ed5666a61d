"""`python -m ui.cli` runs the pwatch command line."""

from ui.cli import main

main()
