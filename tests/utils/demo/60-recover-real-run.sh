# shellcheck shell=bash disable=SC2034
title="Stuck aggregations: cleared, relaunched where the source is healthy, verified"

story() {
  ansible-playbook -i localhost, sailpoint.isc.recover_stuck_aggregations -e recover_aggregations_report_dir="$DEMO_STATE/reports"
}

checks() {
  check "the recovery clears the 3, relaunches Active Directory's 2 aggregations, which succeed, and skips Workday" \
    grep -F "cleared 3, relaunched 2, recovered 2, not recovered 0, skipped 1." "$CHAPTER_LOG"
  check "Active Directory's account aggregation ended SUCCESS" \
    grep -E "Active Directory \(accounts\) \| 1 stuck \| healthy \| recovered: relaunched, ended SUCCESS" "$CHAPTER_LOG"
  check "the recovery prints its report's path, the HTML page included" \
    grep -E "Report: $DEMO_STATE/reports/127\.0\.0\.1_[0-9]+_acme/recover-aggregations-[0-9TZ]+-applied\.json, .*\.md, .*\.html" "$CHAPTER_LOG"
}
