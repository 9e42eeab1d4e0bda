"""Put get_pip_stub.py where ansible-test looks for the get-pip.py it would otherwise download.

    PYTHON seed_get_pip.py CACHE_DIR

Run it with the Python whose ansible-test is going to create virtual environments: ansible-test names its cached
copy after the pip version it pins, which differs between ansible-core releases. Stages running side by side may
seed the same file, so it is replaced in one rename and never seen half written.
"""

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import ansible_test

STUB = Path(__file__).resolve().parent / "get_pip_stub.py"


def pinned_pip_version() -> str:
    requirements = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip=['\"](\d[\d.]*)['\"]", requirements.read_text(encoding="utf-8"))
    if not match:
        raise SystemExit(f"no pinned pip version found in {requirements}")
    return match.group(1)


def main(argv: list) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    cache_dir = Path(argv[0])
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"get_pip_{pinned_pip_version().replace('.', '_')}.py"
    descriptor, partial = tempfile.mkstemp(dir=cache_dir, prefix=f".{target.name}.")
    os.close(descriptor)
    shutil.copyfile(STUB, partial)
    os.chmod(partial, 0o644)
    os.replace(partial, target)


if __name__ == "__main__":
    main(sys.argv[1:])
