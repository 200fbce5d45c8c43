# Start script for a self-hosted Azure Pipelines agent in a Windows container
# (or on a Windows VM), registered with the machine's managed identity instead
# of a Personal Access Token: the Windows twin of start.sh. It has the shape of
# the start.ps1 Microsoft documents for Windows agent containers ("Run a
# self-hosted agent in Docker"): config.cmd, run.cmd, and config.cmd remove in
# a finally block. mi-token finds the identity endpoint itself
# (IDENTITY_ENDPOINT on Container Apps, IMDS on VMs and scale sets).
#
# Environment:
#   AZP_URL         https://dev.azure.com/<organization>                (required)
#   AZP_POOL        agent pool (default: Default)
#   AZP_AGENT_NAME  agent name (default: the host name)
#   AZP_WORK        work folder (default: _work)
#   AZP_CLIENT_ID   client ID of the user-assigned identity to use
#                   (default: the system-assigned identity)
#   AGENT_DIR       the unpacked agent (default: C:\azp\agent)
# Arguments go to run.cmd, for example --once.
#
# Needs mi-token on PATH (npm install -g of the package makes mi-token.cmd; see
# the README, "Agent bootstrap: mi-token"), and the identity added to the organization
# with the Administrator role on the pool. Windows PowerShell 5.1 or PowerShell 7.
$ErrorActionPreference = 'Stop'

if (-not $Env:AZP_URL) { throw 'Set AZP_URL to https://dev.azure.com/<organization>' }
Set-Location $(if ($Env:AGENT_DIR) { $Env:AGENT_DIR } else { 'C:\azp\agent' })

$miArgs = @('--audience', 'AzureDevOps', '--timeout', '60')
if ($Env:AZP_CLIENT_ID) { $miArgs += @('--client-id', $Env:AZP_CLIENT_ID) }

# A token from mi-token, or a stop with mi-token's exit code: a native command's
# failure does not stop a PowerShell script by itself.
function Get-AgentToken {
  $token = & mi-token @miArgs
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
  return $token
}

# Fail early, with mi-token's advice and exit code, if there is no usable
# identity; the claims (never the token) name the identity to authorize.
Write-Host '1. Checking the managed identity...'
& mi-token @miArgs --claims | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

try {
  Write-Host '2. Registering the agent...'
  $token = Get-AgentToken
  .\config.cmd --unattended `
    --url $Env:AZP_URL `
    --auth pat --token $token `
    --pool $(if ($Env:AZP_POOL) { $Env:AZP_POOL } else { 'Default' }) `
    --agent $(if ($Env:AZP_AGENT_NAME) { $Env:AZP_AGENT_NAME } else { hostname }) `
    --work $(if ($Env:AZP_WORK) { $Env:AZP_WORK } else { '_work' }) `
    --replace
  if ($LASTEXITCODE -ne 0) { throw "config.cmd failed with exit code $LASTEXITCODE" }
  Remove-Variable token

  .\run.cmd @args
}
finally {
  if (Test-Path .agent) {
    # A fresh token: the one used at registration has expired after an hour or so.
    Write-Host '3. Removing the agent...'
    foreach ($attempt in 1..5) {
      $token = & mi-token @miArgs
      if ($LASTEXITCODE -eq 0) {
        .\config.cmd remove --unattended --auth pat --token $token
        if ($LASTEXITCODE -eq 0) { break }
      }
      Write-Host "Removal failed (attempt $attempt of 5); retrying in 5 seconds..."
      Start-Sleep -Seconds 5
    }
  }
}
