# shellcheck shell=bash disable=SC2034
title="A rerun changes nothing"

story() {
  ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks -e stuck_tasks_report_dir="$DEMO_STATE/reports"
}

checks() {
  check "the rerun changes nothing" grep -E "localhost +: ok=[0-9]+ +changed=0 " "$CHAPTER_LOG"
}
