#!/usr/bin/env bash
# The run step of action.yml: shipyard with the action's command. Under GitHub Actions shipyard writes
# the step's outputs (digest, version, release, coverage, …), its summary and its annotations itself.
set -euo pipefail

# The command comes through the environment, never pasted into this script: an input cannot inject
# shell. It is split at whitespace, without globbing.
read -r -a args <<<"${SHIPYARD_COMMAND:?the action needs a command, such as pipeline or test --min-total 80}"
exec shipyard "${args[@]}"
