"""`python -m cypp_dash`: the command line."""
import sys

from cypp_dash.cli import main

sys.exit(main())
