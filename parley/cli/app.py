"""The root Typer application that every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="parley",
    help="Parley: build, test and serve production conversational assistants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Check and manage training data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
# Groups whose own action (`parley shell`, `parley test`) is their callback with
# invoke_without_command=True, beside subcommands (`parley shell nlu`, `parley test nlu`).
shell_app = typer.Typer(help="Chat with the trained assistant in the terminal.")
app.add_typer(shell_app, name="shell")
# `parley test` replays the test stories; subcommands (`parley test nlu`) test one part
test_app = typer.Typer(help="Test a trained model on test stories or labelled data.")
app.add_typer(test_app, name="test")

console = Console()
err_console = Console(stderr=True)
