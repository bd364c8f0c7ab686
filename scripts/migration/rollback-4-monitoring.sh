#!/usr/bin/env bash
# Phase 4 (monitoring) rollback: take agentry's ServiceMonitors and PrometheusRule out of the
# cluster's Prometheus (the legacy dashboards and alerts stay as they were). Workers keep serving
# /metrics; nothing scrapes them until the phase is done again.
#
#   scripts/migration/rollback-4-monitoring.sh --release agentry --namespace agentry [--chart helm/agentry]
source "$(dirname "$0")/lib.sh"

release="" namespace="" chart="$(dirname "$0")/../../helm/agentry"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) release="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --chart) chart="$2"; shift 2 ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need release "$release"
need namespace "$namespace"

run helm upgrade "$release" "$chart" --namespace "$namespace" --reuse-values \
  --set metrics.serviceMonitor.enabled=false --set metrics.prometheusRule.enabled=false --wait
log "phase 4 rolled back: agentry's scrape targets and alert rules removed"
