# Shared by the rollback scripts of docs/migration-plan.md. Source it; do not run it.
#   DRY_RUN=1      print each command instead of running it (review a rollback before doing it)
#   AGENTRY_CLI    how to run `agentry` (default: `pnpm -s agentry` from a checkout; in a cluster,
#                  e.g. `kubectl -n agentry run agentry-cli --rm -i --restart=Never
#                  --image=ghcr.io/acme/agentry-cli:<sha> --`)
set -euo pipefail

DRY_RUN="${DRY_RUN:-0}"
AGENTRY_CLI="${AGENTRY_CLI:-pnpm -s agentry}"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Run a command, or print it under DRY_RUN=1. Every command is echoed, so the log is the record.
run() {
  printf '+ %s\n' "$*" >&2
  if [[ "$DRY_RUN" == 1 ]]; then return 0; fi
  "$@"
}

# `agentry <args>` through AGENTRY_CLI (split on spaces on purpose: it is a command line).
agentry() {
  # shellcheck disable=SC2086
  run $AGENTRY_CLI "$@"
}

# `agentry <args>` whose output the script reads: runs even under DRY_RUN (it changes nothing).
agentry_read() {
  # shellcheck disable=SC2086
  $AGENTRY_CLI "$@"
}

need() {
  local name="$1" value="$2"
  [[ -n "$value" ]] || die "missing --$name (see --help)"
}
