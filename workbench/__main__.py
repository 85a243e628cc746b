"""`python -m workbench` runs the command-line interface (`workbench --help`)."""

from workbench.cli import main

raise SystemExit(main())
