"""Model cards: JSON files in ``models/`` with paper-faithful defaults, citation and documented choices.

Cards are data, not code. They are found in a source checkout (``<repo>/models``) or, from an installed
wheel, in ``<prefix>/share/neurosuite/models`` (installed by setup.cfg's data_files).
"""
import json
import sys
from pathlib import Path

from .errors import InvalidInputError


def card_directories():
    """Where cards are looked for, in order."""
    return [Path(__file__).resolve().parent.parent / "models", Path(sys.prefix) / "share" / "neurosuite" / "models"]


def list_cards():
    """Names of every available card."""
    names = set()
    for folder in card_directories():
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.json"))
    return sorted(names)


def card_path(name):
    """Path of card ``name`` (without .json) or InvalidInputError listing the available cards."""
    for folder in card_directories():
        path = folder / f"{name}.json"
        if path.is_file():
            return path
    raise InvalidInputError(f"No model card named {name!r}. Allowed values are {', '.join(list_cards()) or 'none'}.")


def load_card(name):
    """The card ``name`` as a dict."""
    path = card_path(name)
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise InvalidInputError(f"{path}: model card is not valid JSON ({exc}).") from None


def model_file(name, filename):
    """Path of a file shipped beside the cards (e.g. a small checkpoint) referenced by card ``name``."""
    path = card_path(name).parent / filename
    if not path.is_file():
        raise InvalidInputError(f"model card {name!r} refers to {filename!r}, which is not installed at {path}.")
    return path
