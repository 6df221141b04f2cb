"""Where pgconsole finds the files it ships."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find_styles() -> Path:
    # An installed wheel carries the stylesheets inside the package (hatch force-include);
    # a source checkout or an editable install keeps them in the repository's styles/.
    for candidate in (_PACKAGE / "_styles", _PACKAGE.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(f"pgconsole's stylesheets are missing (looked beside {_PACKAGE})")


STYLES: Path = _find_styles()
"""The directory holding the Textual CSS files (`app.tcss` and one per screen)."""
