"""How the course names a file to the learner: as short as it can be said."""

from pathlib import Path


def shown(path: Path) -> str:
    """A path relative to the current directory when inside it, else as it is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
