#!/usr/bin/env bash
# make docs: the documentation site in build/docs/html. antsibull-docs lints the collection's docs, then renders its
# plugin and role docs with the extra pages of docs/docsite, and Sphinx builds the HTML. Any Sphinx warning fails the
# build, except those that come from being offline, which tests/utils/docs_warnings.py lists as it tolerates them.
#
# Environment (set by the Makefile): BIN, BUILD, COLLECTIONS, COLLECTION.
set -euo pipefail

fail() {
  echo "$*"
  exit 1
}

export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
(cd "$COLLECTION" && antsibull-docs lint-collection-docs --plugin-docs .)
echo "CHECK ok: antsibull-docs lint-collection-docs --plugin-docs"
site=$COLLECTIONS/docsite
rm -rf "$site" && mkdir -m 700 "$site"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
  --project sailpoint.isc --copyright "sailpoint.isc contributors" --title "sailpoint.isc" --html-short-title "sailpoint.isc" \
  --dest-dir "$site" sailpoint.isc >/dev/null
chmod og-w "$site/rst"
cd "$site"
antsibull-docs --config-file antsibull-docs.cfg collection --use-current --squash-hierarchy --fail-on-error --dest-dir rst sailpoint.isc
sphinx-build -b html -c . -q --keep-going -w warnings.txt rst html
"$BIN/python" "$COLLECTION/tests/utils/docs_warnings.py" warnings.txt
pages=$("$BIN/python" -c 'import sys, yaml; print(*(entry if isinstance(entry, str) else entry["ref"] for section in yaml.safe_load(open(sys.argv[1]))["sections"] for entry in section["toctree"]))' "$COLLECTION/docs/docsite/extra-docs.yml")
for page in $pages; do
  test -s "html/docsite/$page.html" || fail "the site has no page $page"
done
echo "CHECK ok: the site holds the extra pages $pages"
rm -rf "$BUILD/docs" && mkdir -p "$BUILD/docs" && mv html "$BUILD/docs/html"
echo "CHECK ok: the documentation site is in $BUILD/docs/html/index.html"
