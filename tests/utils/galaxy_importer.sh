#!/usr/bin/env bash
# make galaxy-importer: Galaxy's own importer on the built tarball, as Galaxy runs it on upload (ansible-lint on,
# ansible-test off: see tests/utils/galaxy-importer.cfg), from a venv of its own; a single warning or error it
# reports fails the stage.
#
# Environment (set by the Makefile): PYTHON, IMPORTER_VENV, COLLECTIONS, COLLECTION.
set -euo pipefail

fail() {
  echo "$*"
  exit 1
}

if [ ! -f "$IMPORTER_VENV/.installed" ] || [ requirements-importer.txt -nt "$IMPORTER_VENV/.installed" ]; then
  rm -rf "$IMPORTER_VENV"
  "$PYTHON" -m venv "$IMPORTER_VENV"
  "$IMPORTER_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$IMPORTER_VENV/bin/python" -m pip install --quiet -r requirements-importer.txt
  touch "$IMPORTER_VENV/.installed"
fi
rm -rf "$COLLECTIONS/dist"
(cd "$COLLECTION" && ansible-galaxy collection build --output-path "$COLLECTIONS/dist" . >/dev/null)
cd "$COLLECTIONS"
PATH=$IMPORTER_VENV/bin:$PATH GALAXY_IMPORTER_CONFIG=$COLLECTION/tests/utils/galaxy-importer.cfg \
  "$IMPORTER_VENV/bin/python" -m galaxy_importer.main dist/sailpoint-isc-*.tar.gz | tee importer.log
grep -qF "...ansible-lint run complete" importer.log && grep -qxF "Importer processing completed successfully" importer.log \
  || fail "galaxy-importer did not lint and import the collection"
problems=$(grep -cE '^(WARNING|ERROR|CRITICAL):' importer.log || true)
[ "$problems" = 0 ] || fail "galaxy-importer reported $problems warning(s) or error(s)"
version=$("$IMPORTER_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))')
echo "CHECK ok: galaxy-importer $version imports $(basename dist/*.tar.gz), ansible-lint included: 0 errors, 0 warnings"
