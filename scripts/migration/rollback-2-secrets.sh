#!/usr/bin/env bash
# Phase 2 (secrets) rollback: return to the Helm revision recorded before the secret references
# changed, wait for every Deployment to roll, and check the references resolve again.
#
#   scripts/migration/rollback-2-secrets.sh --release agentry --namespace agentry --revision 7
source "$(dirname "$0")/lib.sh"

release="" namespace="" revision=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) release="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --revision) revision="$2"; shift 2 ;;
    -h | --help) sed -n '2,5p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need release "$release"
need namespace "$namespace"
need revision "$revision"

run helm rollback "$release" "$revision" --namespace "$namespace" --wait
for component in planner executor api; do
  run kubectl --namespace "$namespace" rollout status "deployment/$release-$component" --timeout 5m
done
# `doctor` resolves every configured secret reference and fails (exit 1) on one that does not.
agentry doctor
log "phase 2 rolled back to revision $revision"
