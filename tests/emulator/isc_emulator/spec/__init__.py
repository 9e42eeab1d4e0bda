"""Where the OpenAPI files the emulator is checked against live."""

import os
import pathlib


def spec_dir():
    """ISC_SPEC_DIR when set, else the copy vendored beside this file."""
    return pathlib.Path(os.environ.get("ISC_SPEC_DIR") or pathlib.Path(__file__).parent)


def spec_path(name):
    """A version's task-management file ("v2025"), or any vendored file by its stem ("sources-aggregation.v2025")."""
    stem = name if "." in name else "task-management." + name
    return spec_dir() / (stem + ".yaml")
