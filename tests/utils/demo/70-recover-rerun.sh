# shellcheck shell=bash disable=SC2034
title="Stuck aggregations: a rerun has nothing to do"

story() {
  ansible-playbook -i localhost, sailpoint.isc.recover_stuck_aggregations -e recover_aggregations_report_dir="$DEMO_STATE/reports"
}

checks() {
  check "the rerun finds no stuck aggregation and changes nothing" grep -E "localhost +: ok=[0-9]+ +changed=0 " "$CHAPTER_LOG"
  check "the rerun says so" grep -F "applied: 0 aggregations pending for at least 6h on 0 sources" "$CHAPTER_LOG"
}
