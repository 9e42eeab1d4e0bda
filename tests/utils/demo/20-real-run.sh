# shellcheck shell=bash disable=SC2034
title="The real run"

story() {
  ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks -e stuck_tasks_report_dir="$DEMO_STATE/reports"
}

checks() {
  check "the real run clears them" grep -F "closed $DEMO_STUCK," "$CHAPTER_LOG"
  check "the clean-up names the tenant after its base URL and prints its report's path" \
    grep -E "Report: $DEMO_STATE/reports/127\.0\.0\.1_[0-9]+_acme/stuck-tasks-[0-9TZ]+-applied\.json" "$CHAPTER_LOG"
}
