#!/usr/bin/env bash
# Phase 5 (CI/CD) rollback: stop agentry's deploy pipeline and give deployments back to the legacy
# one. Releases already deployed stay; roll those back with scripts/rollback.sh.
#
#   scripts/migration/rollback-5-cicd.sh --repo acme/agents [--legacy-workflow deploy-legacy.yml]
source "$(dirname "$0")/lib.sh"

repo="" legacy=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repo) repo="$2"; shift 2 ;;
    --legacy-workflow) legacy="$2"; shift 2 ;;
    -h | --help) sed -n '2,5p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need repo "$repo"

run gh workflow disable deploy.yml --repo "$repo"
run gh workflow disable rollback-drill.yml --repo "$repo"
if [[ -n "$legacy" ]]; then
  run gh workflow enable "$legacy" --repo "$repo"
fi
log "phase 5 rolled back: agentry's deploy workflows disabled in $repo"
