# shellcheck shell=bash disable=SC2034
title="The tenant's task state as Prometheus metrics"

# The same runbook with the prom format: one file per tenant for node_exporter's textfile collector.
story() {
  ansible-playbook -i localhost, sailpoint.isc.task_report \
    -e '{"task_report_formats": ["json", "prom"]}' -e task_report_dir="$DEMO_STATE/reports" >/dev/null
  local metrics
  metrics=$(echo "$DEMO_STATE"/reports/127.0.0.1_*_acme.prom)
  echo "Metrics for node_exporter's textfile collector: $metrics"
  head -n 12 "$metrics"
  echo "..."
  grep -E '^sailpoint_isc_(report_success|report_api_requests)' "$metrics"
}

metrics_shown() {
  grep -q '^Metrics for node_exporter.s textfile collector: .*/reports/127.0.0.1_.*_acme.prom$' "$CHAPTER_LOG" &&
    grep -q '^# TYPE sailpoint_isc_tasks_pending gauge$' "$CHAPTER_LOG" &&
    grep -q '^sailpoint_isc_report_success{tenant="127.0.0.1_[0-9]*_acme"} 1$' "$CHAPTER_LOG"
}

promtool_accepts() {
  promtool check metrics <"$(echo "$DEMO_STATE"/reports/127.0.0.1_*_acme.prom)"
}

checks() {
  check "the demo ends showing the metrics file's path and first lines, the report run a success" metrics_shown
  check "promtool check metrics accepts the file" promtool_accepts
}
