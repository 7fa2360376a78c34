import sys

from .cli import console_script

sys.exit(console_script())
