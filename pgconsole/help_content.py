"""What help offers: every screen's keys under its name (the help screen), the palette's commands.

Beside `pgconsole.keys` (how a key is spelled), this module says where each key works. It
reaches every screen, so they are imported when help is first asked for, not at start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from textual.app import SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen

from pgconsole.screens.help import KeySection


def key_sections(everywhere: type[DOMNode]) -> list[KeySection]:
    """Each screen's keys under its name; `everywhere` is the app, whose keys work on all."""
    from pgconsole.screens.activity import ActivityScreen
    from pgconsole.screens.cell_editor import CellEditorScreen
    from pgconsole.screens.confirm import ChoiceScreen, ConfirmScreen
    from pgconsole.screens.conflict import ConflictScreen
    from pgconsole.screens.connection_error import ConnectionErrorScreen
    from pgconsole.screens.console import ConsoleScreen
    from pgconsole.screens.diagnostics import DiagnosticsScreen
    from pgconsole.screens.explain import ExplainScreen
    from pgconsole.screens.export import ExportScreen
    from pgconsole.screens.filter import FilterScreen
    from pgconsole.screens.fleet import FleetScreen
    from pgconsole.screens.help import HelpScreen
    from pgconsole.screens.history import HistoryScreen
    from pgconsole.screens.insert import InsertScreen
    from pgconsole.screens.main import MainScreen
    from pgconsole.screens.password import PasswordScreen
    from pgconsole.screens.relation import RelationScreen
    from pgconsole.screens.servers import ServersScreen
    from pgconsole.screens.sessions import SessionsScreen
    from pgconsole.screens.sql_log import SqlLogScreen
    from pgconsole.screens.value import ValueScreen
    from pgconsole.widgets.grid import DataGrid
    from pgconsole.widgets.schema_tree import SchemaTree
    from pgconsole.widgets.sql_editor import SqlEditor

    return [
        ("Everywhere", [everywhere]),
        ("Browser", [MainScreen]),
        ("Schema tree", [SchemaTree]),
        ("Data grid", [DataGrid]),
        ("Value", [ValueScreen]),
        ("Filter", [FilterScreen]),
        ("Relation details", [RelationScreen]),
        ("Export", [ExportScreen]),
        ("Cell editor", [CellEditorScreen]),
        ("New row", [InsertScreen]),
        ("Conflict", [ConflictScreen]),
        ("SQL log", [SqlLogScreen]),
        ("Connection error", [ConnectionErrorScreen]),
        ("Password prompt", [PasswordScreen]),
        ("Questions", [ConfirmScreen, ChoiceScreen]),
        ("Activity", [ActivityScreen, SessionsScreen]),
        ("Diagnostics", [DiagnosticsScreen]),
        ("SQL console", [ConsoleScreen, SqlEditor]),
        ("Plan", [ExplainScreen]),
        ("History", [HistoryScreen]),
        ("Servers (F10)", [ServersScreen]),
        ("Fleet view", [FleetScreen]),
        ("Help", [HelpScreen]),
    ]


def system_commands(
    textual: Iterable[SystemCommand],
    screen: Screen[object],
    *,
    reconnect: Callable[[], object],
    show_help: Callable[[], object],
) -> Iterator[SystemCommand]:
    """The palette's commands on `screen`: Textual's own (`textual`) and pgconsole's."""
    from pgconsole.widgets.sql_editor import SqlEditor  # loaded when first used

    # Textual's own "Keys" panel lists Textual's bindings beside ours: "Help: keys" replaces it.
    for command in textual:
        if command.title != "Keys":
            yield command
    yield SystemCommand("Reconnect", "Close the pool and connect again", reconnect)
    yield SystemCommand("Help: keys", "List every key pgconsole knows", show_help)
    for editor in screen.query(SqlEditor):
        yield SystemCommand(
            "Console: clear editor", "Empty the editor (Ctrl+z undoes)", editor.clear_all
        )
