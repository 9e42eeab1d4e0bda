"""Where the OpenAPI files the emulator is checked against live."""

import os
import pathlib


def spec_dir():
    """ISC_SPEC_DIR when set, else the copy vendored beside this file."""
    return pathlib.Path(os.environ.get("ISC_SPEC_DIR") or pathlib.Path(__file__).parent)


def spec_path(version_name):
    return spec_dir() / ("task-management.%s.yaml" % version_name)
