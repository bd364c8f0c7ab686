#!/usr/bin/env bash
# Phase 6 (code cut-over behind a canary) rollback: route producers back to the legacy system,
# then let agentry finish what it accepted: wait until no run is pending or running, and after
# --drain-timeout either cancel what is left (--cancel-leftovers: completed steps are
# compensated) or list it and exit 2 so an operator decides. Nothing accepted is dropped silently.
#
#   scripts/migration/rollback-6-cutover.sh --route-cmd './route-intents.sh legacy 100' \
#     [--drain-timeout 600] [--cancel-leftovers]      (AGENTRY_API_URL and AGENTRY_API_TOKEN set)
source "$(dirname "$0")/lib.sh"

route="" timeout=600 cancel=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --route-cmd) route="$2"; shift 2 ;;
    --drain-timeout) timeout="$2"; shift 2 ;;
    --cancel-leftovers) cancel=1; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
need route-cmd "$route"

# 1. No new intents reach agentry.
run bash -c "$route"

# 2. What agentry accepted finishes (runs waiting for approval are listed, not waited for).
unfinished() {
  for state in pending running; do
    agentry_read runs list --state "$state" --limit 500 --json
  done | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const ids = s.split("\n").filter(Boolean).flatMap((l) => JSON.parse(l).map((r) => r.id));
      console.log(ids.join(" "));
    });'
}
[[ "$DRY_RUN" == 1 ]] && exit 0
deadline=$(($(date +%s) + timeout))
left="$(unfinished)"
while [[ -n "$left" && $(date +%s) -lt $deadline ]]; do
  log "waiting for $(wc -w <<<"$left") run(s) to finish"
  sleep 2
  left="$(unfinished)"
done
if [[ -n "$left" ]]; then
  if [[ "$cancel" == 0 ]]; then
    log "still unfinished after ${timeout}s: $left"
    log "rerun with --cancel-leftovers to cancel them, or wait longer"
    exit 2
  fi
  for id in $left; do
    agentry cancel "$id" --reason "cut-over rolled back"
  done
fi
parked="$(agentry_read runs list --state awaiting_approval --limit 500 --json)"
log "phase 6 rolled back: producers routed away; runs awaiting approval: $parked"
