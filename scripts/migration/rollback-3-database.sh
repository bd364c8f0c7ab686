#!/usr/bin/env bash
# Phase 3 (database) rollback: migrate agentry's schema down to a recorded migration and prove it
# (the current migration is the recorded one; the schema fingerprint is printed for the record).
# Stop or roll back the workers first: code newer than the schema must not run against it.
#
#   DATABASE_URL=... scripts/migration/rollback-3-database.sh --to 0003-llm-calls
source "$(dirname "$0")/lib.sh"

to=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --to) to="$2"; shift 2 ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need to "$to"

current() { agentry_read migrate status --json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).current??"zero"))'; }

before="$(current)"
log "database at $before; rolling back to $to"
if [[ "$before" == "$to" ]]; then
  log "already at $to: nothing to do"
  exit 0
fi
agentry migrate down --to "$to"
[[ "$DRY_RUN" == 1 ]] && exit 0
after="$(current)"
[[ "$after" == "$to" ]] || die "database is at $after after the rollback, expected $to"
log "phase 3 rolled back: database at $after, schema $(agentry_read migrate fingerprint)"
