# shellcheck shell=bash disable=SC2034
title="The tenant's task report"

story() {
  ansible-playbook -i localhost, sailpoint.isc.task_report -e task_report_dir="$DEMO_STATE/reports"
}

report_files_exist() {
  local report
  for report in task-report.html task-report.json task-report.md; do
    test -s "$(echo "$DEMO_STATE"/reports/127.0.0.1_*_acme/"$report")" || return 1
  done
}

checks() {
  check "the report files exist, in the tenant's folder" report_files_exist
}
