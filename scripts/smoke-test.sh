#!/usr/bin/env bash
# Smoke test of a deployed agentry: the API is ready, and a probe intent submitted through it
# becomes a plan and a run that succeeds. Run by .github/workflows/deploy.yml after each deploy;
# the same command works by hand against any environment:
#
#   AGENTRY_API_URL=https://agentry.staging.example.com AGENTRY_API_TOKEN=… scripts/smoke-test.sh
#
#   AGENTRY_API_URL      the API's base URL (required)
#   AGENTRY_API_TOKEN    its bearer token (required when the API has one, i.e. in production)
#   SMOKE_TENANT         tenant of the probe run (default: smoke-test)
#   SMOKE_TIMEOUT        seconds to wait for readiness, and then for the run (default: 120)
#   SMOKE_ID             makes the probe idempotent (default: time and PID; CI: the run id)
#
# Exit 0: ready and the probe run succeeded. Exit 1: anything else, with the reason.
set -euo pipefail

api="${AGENTRY_API_URL:?set AGENTRY_API_URL to the API base URL}"
api="${api%/}"
tenant="${SMOKE_TENANT:-smoke-test}"
timeout="${SMOKE_TIMEOUT:-120}"
id="${SMOKE_ID:-$(date -u +%Y%m%dT%H%M%S)-$$}"

log() { printf '%s smoke: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
command -v curl > /dev/null || die "curl is required"
command -v jq > /dev/null || die "jq is required"

# curl with the token, never echoed (the header comes from a file descriptor, not argv).
call() {
  local method="$1" path="$2"
  shift 2
  curl --silent --show-error --max-time 10 --request "$method" \
    --header @<(printf 'authorization: Bearer %s\n' "${AGENTRY_API_TOKEN:-}") \
    "$@" "${api}${path}"
}

log "waiting up to ${timeout}s for ${api}/readyz"
deadline=$((SECONDS + timeout))
until [[ "$(call GET /readyz --output /dev/null --write-out '%{http_code}' 2> /dev/null || true)" == 200 ]]; do
  ((SECONDS < deadline)) || die "${api}/readyz did not answer 200 within ${timeout}s"
  sleep 2
done
log "ready"

# "echo 2 steps" plans to two echo steps: harmless, and the template planner knows it when no
# model answers.
body="$(jq -cn --arg tenant "$tenant" --arg key "smoke-${id}" \
  '{text: "smoke test: echo 2 steps", tenantId: $tenant, idempotencyKey: $key,
    metadata: {source: "smoke-test"}}')"
response="$(call POST /v1/runs --header 'content-type: application/json' --data "$body" \
  --write-out '\n%{http_code}')" || die "POST /v1/runs failed"
status="${response##*$'\n'}"
response="${response%$'\n'*}"
[[ "$status" == 202 || "$status" == 200 ]] || die "POST /v1/runs answered ${status}: ${response}"
run_id="$(jq -er .runId <<< "$response")" || die "no runId in ${response}"
log "submitted run ${run_id}"

deadline=$((SECONDS + timeout))
while :; do
  detail="$(call GET "/v1/runs/${run_id}")" || detail='{}'
  state="$(jq -r '.run.state // "unknown"' <<< "$detail" 2> /dev/null || echo unknown)"
  case "$state" in
    succeeded)
      log "run ${run_id} succeeded: $(jq -c '{plan: .plan.summary, producedBy: .plan.producedBy,
        steps: [.steps[] | {stepId, state}]}' <<< "$detail")"
      exit 0
      ;;
    failed | rejected | cancelled)
      die "run ${run_id} ended ${state}: $(jq -c '.run.error' <<< "$detail")"
      ;;
    awaiting_approval)
      die "run ${run_id} waits for approval: the probe intent should not need one"
      ;;
  esac
  ((SECONDS < deadline)) || die "run ${run_id} is still ${state} after ${timeout}s"
  sleep 2
done
