"""``python -m vocnlp ...``: the same CLI as the ``vocnlp`` command (for an environment whose scripts folder is not
on PATH)."""

from .cli.main import app

app(prog_name="vocnlp")
