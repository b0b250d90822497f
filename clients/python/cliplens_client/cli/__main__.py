"""`python -m cliplens.client.cli` is the `cliplens` command."""

from cliplens.client.cli import main

main()
