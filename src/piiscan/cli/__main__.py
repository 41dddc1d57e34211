"""`python -m piiscan.cli`."""

from piiscan.cli import app

app()
