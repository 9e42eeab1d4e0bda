# shellcheck shell=bash disable=SC2034
title="Dry run (check mode): what would be cleared"

story() {
  ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks --check --diff -e stuck_tasks_report_dir="$DEMO_STATE/reports"
}

lists_the_stuck_tasks() {
  grep -F "dry run: $DEMO_STUCK tasks pending" "$CHAPTER_LOG" | grep -F "would close $DEMO_STUCK," >/dev/null
}

checks() {
  check "the dry run lists the $DEMO_STUCK stuck tasks" lists_the_stuck_tasks
  check "the dry run shows the diff" grep -E "^-[[:space:]]+\"completionStatus\": null" "$CHAPTER_LOG"
}
