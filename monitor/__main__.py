"""`python -m monitor` is the same as the `monitor` command."""

from monitor.entry import main

main()
