#!/usr/bin/env bash
# Phase 1 (preparation) rollback: remove the agentry release installed beside the legacy system.
# Nothing routes work to it yet, so nothing else changes. With --drop-database the schema is
# migrated down to zero (every agentry table gone); the database itself is left to its owner.
#
#   scripts/migration/rollback-1-preparation.sh --release agentry --namespace agentry [--drop-database]
source "$(dirname "$0")/lib.sh"

release="" namespace="" drop=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) release="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --drop-database) drop=1; shift ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need release "$release"
need namespace "$namespace"

run helm uninstall "$release" --namespace "$namespace" --wait
if [[ "$drop" == 1 ]]; then
  agentry migrate down --to zero
fi
log "phase 1 rolled back: release $release removed from $namespace"
