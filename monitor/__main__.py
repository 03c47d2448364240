"""`python -m monitor` is the same as the `monitor` command."""

from monitor.cli import main

main()
