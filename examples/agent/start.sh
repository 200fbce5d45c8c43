#!/usr/bin/env bash
# Start script for a self-hosted Azure Pipelines agent in a container (or on a
# VM), registered with the machine's managed identity instead of a Personal
# Access Token. mi-token finds the identity endpoint itself (IDENTITY_ENDPOINT
# on Container Apps, IMDS on VMs and scale sets), so this script is the same
# everywhere.
#
# Environment:
#   AZP_URL         https://dev.azure.com/<organization>                (required)
#   AZP_POOL        agent pool (default: Default)
#   AZP_AGENT_NAME  agent name (default: the host name)
#   AZP_WORK        work folder (default: _work)
#   AZP_CLIENT_ID   client ID of the user-assigned identity to use
#                   (default: the system-assigned identity)
#   AGENT_DIR       the unpacked agent (default: /azp/agent)
# Arguments go to run.sh, for example --once.
#
# Needs mi-token on PATH (see the README, "Agent bootstrap: mi-token"), and the
# identity added to the organization with the Administrator role on the pool.
set -euo pipefail

: "${AZP_URL:?set AZP_URL to https://dev.azure.com/<organization>}"
cd "${AGENT_DIR:-/azp/agent}"
export AGENT_ALLOW_RUNASROOT=1

mi_args=(--audience AzureDevOps --timeout 60)
if [ -n "${AZP_CLIENT_ID:-}" ]; then mi_args+=(--client-id "$AZP_CLIENT_ID"); fi

# Fail early, with mi-token's advice and exit code, if there is no usable
# identity; the claims (never the token) name the identity to authorize.
echo "1. Checking the managed identity..."
mi-token "${mi_args[@]}" --claims >/dev/null

cleanup() {
  trap - EXIT INT TERM
  if [ -n "${agent_pid:-}" ]; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  if [ -e .agent ]; then
    # A fresh token: the one used at registration has expired after an hour or so.
    echo "3. Removing the agent..."
    local token
    for attempt in 1 2 3 4 5; do
      # Assigned first: a failing mi-token then skips config.sh instead of running it with no token.
      if token="$(mi-token "${mi_args[@]}")" &&
        ./config.sh remove --unattended --auth pat --token "$token"; then
        return 0
      fi
      echo "Removal failed (attempt $attempt of 5); retrying in 5 seconds..."
      sleep 5
    done
  fi
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

echo "2. Registering the agent..."
# A plain assignment, so that set -e stops here with mi-token's exit code if it fails
# (a failing "$(mi-token)" inside config.sh's arguments would not stop the script).
token="$(mi-token "${mi_args[@]}")"
./config.sh --unattended \
  --url "$AZP_URL" \
  --auth pat --token "$token" \
  --pool "${AZP_POOL:-Default}" \
  --agent "${AZP_AGENT_NAME:-$(hostname)}" \
  --work "${AZP_WORK:-_work}" \
  --replace \
  --acceptTeeEula &
wait $!
unset token

# In the background, so that a stop signal reaches the traps above at once.
./run.sh "$@" &
agent_pid=$!
wait "$agent_pid"
