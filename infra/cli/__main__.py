"""`python -m infra.cli` runs `aidc`."""

from infra.cli import main

main()
