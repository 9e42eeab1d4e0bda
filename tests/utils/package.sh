#!/usr/bin/env bash
# make package: the collection as users get it. Build the tarball (with the release's CHANGELOG.rst), install it,
# render every module's and role's documentation. Then the execution environment: ansible-builder create turns the
# sample definition (extensions/ee) into a build context from a fresh copy, the image's galaxy step is run on that
# context, and ansible-builder introspect, as the image build does, must find the collection's Python requirements.
#
# Environment (set by the Makefile): BUILD, INSTALLED, COLLECTIONS, COLLECTION, MODULES, ROLES.
set -euo pipefail

fail() {
  echo "$*"
  exit 1
}

rm -rf "$BUILD/dist" "$INSTALLED"
(cd "$COLLECTION" && ansible-galaxy collection build --force --output-path "$BUILD/dist" . >/dev/null)
tarball=$(echo "$BUILD"/dist/sailpoint-isc-*.tar.gz)
echo "CHECK ok: built $(basename "$tarball")"
tar -tzf "$tarball" | grep -x CHANGELOG.rst >/dev/null \
  || fail "the tarball has no CHANGELOG.rst: release first (antsibull-changelog release)"
echo "CHECK ok: the tarball holds CHANGELOG.rst"

ANSIBLE_COLLECTIONS_PATH=$INSTALLED ansible-galaxy collection install --offline --force -p "$INSTALLED" "$tarball" >/dev/null
echo "CHECK ok: installed into $INSTALLED"
for module in $MODULES; do
  ANSIBLE_COLLECTIONS_PATH=$INSTALLED ansible-doc "sailpoint.isc.$module" | grep "^> MODULE sailpoint.isc.$module" >/dev/null \
    || fail "ansible-doc sailpoint.isc.$module did not render"
  echo "CHECK ok: ansible-doc sailpoint.isc.$module"
done
for role in $ROLES; do
  ANSIBLE_COLLECTIONS_PATH=$INSTALLED ansible-doc -t role "sailpoint.isc.$role" | grep "^> ROLE: \*sailpoint.isc.$role\*" >/dev/null \
    || fail "ansible-doc -t role sailpoint.isc.$role did not render"
  echo "CHECK ok: ansible-doc -t role sailpoint.isc.$role"
done
ANSIBLE_COLLECTIONS_PATH=$INSTALLED ansible-doc -l sailpoint.isc

rm -rf "$COLLECTIONS/ee" "$COLLECTIONS/ee-context" "$COLLECTIONS/ee-collections"
cp -r "$COLLECTION/extensions/ee" "$COLLECTIONS/ee" && cp "$tarball" "$COLLECTIONS/ee/"
ansible-builder create -f "$COLLECTIONS/ee/execution-environment.yml" -c "$COLLECTIONS/ee-context" >/dev/null
cmp -s "$tarball" "$COLLECTIONS/ee-context/_build/$(basename "$tarball")" \
  || fail "the EE build context has no copy of $(basename "$tarball")"
echo "CHECK ok: ansible-builder create on extensions/ee: the build context holds $(basename "$tarball")"
(cd "$COLLECTIONS/ee-context/_build" && ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS/ee-collections \
  ansible-galaxy collection install --offline -r requirements.yml -p "$COLLECTIONS/ee-collections" >/dev/null)
test -f "$COLLECTIONS/ee-collections/ansible_collections/sailpoint/isc/MANIFEST.json" \
  || fail "the image's galaxy step did not install sailpoint.isc"
echo "CHECK ok: the image's galaxy step installs sailpoint.isc"
introspected=$(ansible-builder introspect --sanitize "$COLLECTIONS/ee-collections")
echo "$introspected"
requirements=$(grep -v '^#' "$COLLECTION/requirements.txt")
while read -r requirement; do
  grep -qF -- "- '$requirement  # from collection sailpoint.isc'" <<<"$introspected" \
    || fail "ansible-builder introspect does not list $requirement"
done <<<"$requirements"
echo "CHECK ok: ansible-builder introspect lists $(paste -sd ' ' <<<"$requirements")"
