#!/usr/bin/env bash
# make demo and make demo-check.
#
#   demo.sh run    the story: the collection built and installed as a user gets it, an emulated tenant seeded with
#                  stuck tasks (its state in SQLite under DEMO_STATE, so a second run shows nothing left to change),
#                  then each chapter of tests/utils/demo/ in the order of its file name.
#   demo.sh check  make demo from scratch into DEMO_CHECK_STATE, its output printed, then each chapter's checks
#                  on that chapter's part of the output: the story must read as the README tells it.
#
# A chapter is a file tests/utils/demo/<NN>-<name>.sh that sets `title` and defines `story` (what it runs) and
# `checks` (what make demo-check asserts on it). Each chapter is sourced in a subshell of its own, so it can only
# add to the story, never change another chapter's. In `checks`, $CHAPTER_LOG is the chapter's part of the output
# (from its "=== N. title" line to the next chapter's) and `check MESSAGE COMMAND...` prints "CHECK ok: MESSAGE"
# when COMMAND succeeds and fails the stage when it does not. A chapter that needs the tenant seeded differently
# adds its options to emulator_options below.
#
# Environment (set by the Makefile): BIN, DEMO_STUCK; for run: COLLECTION, DEMO_STATE; for check: MAKE,
# DEMO_CHECK_STATE.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
chapters=("$here"/demo/[0-9]*.sh)
emulator_options=(--tasks 300 --stuck "$DEMO_STUCK" --pending 3)

check() {
  local message=$1
  shift
  if "$@" >/dev/null; then
    echo "CHECK ok: $message"
  else
    echo "CHECK failed: $message"
    exit 1
  fi
}

chapter() {
  # shellcheck source=/dev/null
  source "$1"
  declare -F story checks >/dev/null || {
    echo "$1 must define both story and checks"
    exit 1
  }
  [ -n "${title:-}" ] || {
    echo "$1 sets no title"
    exit 1
  }
}

run() {
  rm -rf "$DEMO_STATE/dist" "$DEMO_STATE/collections"
  (cd "$COLLECTION" && ansible-galaxy collection build --force --output-path "$DEMO_STATE/dist" . >/dev/null)
  ANSIBLE_COLLECTIONS_PATH=$DEMO_STATE/collections ansible-galaxy collection install --offline --force \
    -p "$DEMO_STATE/collections" "$DEMO_STATE"/dist/sailpoint-isc-*.tar.gz >/dev/null
  trap '"$BIN/python" "$here/emulator.py" stop "$DEMO_STATE"' EXIT
  "$BIN/python" "$here/emulator.py" start "$DEMO_STATE" --state "$DEMO_STATE/tenant.sqlite" "${emulator_options[@]}"
  eval "$("$BIN/python" "$here/emulator.py" env "$DEMO_STATE")"
  export ANSIBLE_COLLECTIONS_PATH=$DEMO_STATE/collections DEMO_STATE DEMO_STUCK
  local number=0 file
  for file in "${chapters[@]}"; do
    number=$((number + 1))
    (
      chapter "$file"
      echo
      echo "=== $number. $title"
      story
    )
  done
  echo
  echo "Reports are in $DEMO_STATE/reports:"
  find "$DEMO_STATE/reports" -type f | sort
  echo
  echo "The tenant's state stays in $DEMO_STATE/tenant.sqlite, so another make demo finds nothing left to clear;"
  echo "make demo-reset starts the story over."
}

check_run() {
  local log=$DEMO_CHECK_STATE.log
  mkdir -p "$(dirname "$DEMO_CHECK_STATE")"
  rm -rf "$DEMO_CHECK_STATE"
  "$MAKE" --no-print-directory demo DEMO_STATE="$DEMO_CHECK_STATE" >"$log" 2>&1 || {
    cat "$log"
    exit 1
  }
  cat "$log"
  export DEMO_STATE=$DEMO_CHECK_STATE DEMO_STUCK
  local number=0 file
  for file in "${chapters[@]}"; do
    number=$((number + 1))
    (
      CHAPTER_LOG=$DEMO_CHECK_STATE/chapter-$number.log
      # this chapter's header line through the line before the next chapter's header
      awk -v start="=== $number. " -v next_start="=== $((number + 1)). " \
        'index($0, start) == 1 { inside = 1 } index($0, next_start) == 1 { inside = 0 } inside' "$log" >"$CHAPTER_LOG"
      [ -s "$CHAPTER_LOG" ] || {
        echo "the demo's output has no chapter $number"
        exit 1
      }
      chapter "$file"
      checks
    )
  done
}

case "${1:-}" in
  run) run ;;
  check) check_run ;;
  *)
    echo "usage: $0 run|check"
    exit 2
    ;;
esac
