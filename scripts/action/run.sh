#!/usr/bin/env bash
# The run step of action.yml: shipyard with the action's command and args. Under GitHub Actions shipyard
# writes the step's outputs (digest, version, release, coverage, tags, …), its summary and its
# annotations itself.
set -euo pipefail

# The command comes through the environment, never pasted into this script, and no shell evaluates it:
# xargs splits it at whitespace, honouring single and double quotes and backslashes as a shell would, and
# expands nothing ($VAR, $(…), globs stay as they are). ACTION_ARGS adds one argument per line, verbatim.
: "${ACTION_COMMAND:?the action needs a command, such as pipeline or test --min-total 80}"
split=$(mktemp)
trap 'rm -f "$split"' EXIT
if ! printf '%s' "$ACTION_COMMAND" | xargs -r printf '%s\0' >"$split"; then
  echo "::error title=shipyard action::the command input has an unmatched quote: $ACTION_COMMAND"
  exit 2
fi
args=()
mapfile -d '' -t args <"$split"
while IFS= read -r line; do
  [ -n "$line" ] && args+=("$line") # a block scalar's last newline gives no empty argument
done <<<"${ACTION_ARGS:-}"
# The shard input goes before a "--", after which the arguments are go test's.
if [ -n "${ACTION_SHARD:-}" ]; then
  with=()
  placed=
  for a in "${args[@]}"; do
    if [ -z "$placed" ] && [ "$a" = "--" ]; then
      with+=(--shard "$ACTION_SHARD")
      placed=1
    fi
    with+=("$a")
  done
  [ -n "$placed" ] || with+=(--shard "$ACTION_SHARD")
  args=("${with[@]}")
fi
exec shipyard "${args[@]}"
