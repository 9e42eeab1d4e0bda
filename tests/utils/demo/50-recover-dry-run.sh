# shellcheck shell=bash disable=SC2034
title="Stuck aggregations: the dry run of their recovery"

control() {
  "$BIN/python" "$here/emulator.py" control "$DEMO_STATE" "$@" >/dev/null
}

# The tenant's state outlives make demo: the aggregations are made stuck once, so a second make demo finds them
# recovered. Active Directory's launches complete at once (the emulator's auto-completion), Workday's appliance is down.
prepare_tenant() {
  if "$BIN/python" "$here/emulator.py" control "$DEMO_STATE" GET sources | grep -qF SOURCE_STATE_ERROR_VA; then
    echo "The aggregations an earlier make demo made stuck were recovered then."
    return
  fi
  echo "Active Directory gets a stuck account and a stuck entitlement aggregation; Workday a stuck account aggregation, and its virtual appliance goes down."
  control POST "sources/Active Directory/auto-complete" '{"status": "SUCCESS", "after_reads": 0}'
  control POST "sources/Active Directory/stuck" '{"kind": "accounts", "hours": 7}'
  control POST "sources/Active Directory/stuck" '{"kind": "entitlements", "hours": 7}'
  control POST "sources/Workday/health" '{"status": "SOURCE_STATE_ERROR_VA"}'
  control POST "sources/Workday/stuck" '{"kind": "accounts", "hours": 7}'
}

story() {
  prepare_tenant
  ansible-playbook -i localhost, sailpoint.isc.recover_stuck_aggregations --check -e recover_aggregations_report_dir="$DEMO_STATE/reports"
}

checks() {
  check "the dry run finds the 3 stuck aggregations of 2 sources and predicts what it would do" \
    grep -F "dry run: 3 aggregations pending for at least 6h on 2 sources; would clear 3, would relaunch 2, would skip 1." "$CHAPTER_LOG"
  check "the dry run would skip Workday, whose appliance is down" \
    grep -E "Workday \(accounts\) \| 1 stuck \| SOURCE_STATE_ERROR_VA \| skipped unhealthy" "$CHAPTER_LOG"
}
