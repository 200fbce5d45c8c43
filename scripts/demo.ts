/**
 * npm run demo: starts the Azure emulator on loopback and runs the bundled
 * ManagedIdentityToken@1 as an agent would (INPUT_*, AGENT_TEMPDIRECTORY,
 * SYSTEM_*), then a later script step that uses the token through env:.
 * Prints the pipeline log as the agent shows it: secrets masked.
 */
import { spawnSync } from 'node:child_process';
import { appServiceEnv, imdsEnv, startEmulator, workloadIdentityEnv } from '../emulator';
import { runTask, TaskRun } from '../emulator/agent';
import { buildExtension } from './build';
import { stagedTask } from './paths';

function section(title: string, run: TaskRun): void {
  console.log(`\n\x1b[1m── ${title} ──\x1b[0m  (${run.durationMs} ms, result: ${run.result ?? 'none'})`);
  console.log(run.log.trim());
}

async function main(): Promise<void> {
  await buildExtension();
  const emu = await startEmulator({ userAssigned: ['id-deploy', 'id-readonly'] });
  try {
    const taskDir = stagedTask('ManagedIdentityTokenV1');
    const env = imdsEnv(emu);
    console.log(`Azure emulator on ${emu.url}: a VM with a system-assigned identity and two user-assigned identities.`);

    const arm = await runTask({ taskDir, env, inputs: { audience: 'AzureResourceManager', variableName: 'ArmToken' } });
    section('ManagedIdentityToken@1 (Azure Resource Manager, system-assigned)', arm);

    const uai = emu.machine.userAssigned[0];
    const devops = await runTask({
      taskDir,
      env,
      inputs: { audience: 'AzureDevOps', identityType: 'userAssigned', identityIdType: 'clientId', identityId: uai.clientId },
    });
    section(`ManagedIdentityToken@1 (Azure DevOps, user-assigned ${uai.name})`, devops);

    const appService = await runTask({
      taskDir,
      env: appServiceEnv(emu),
      inputs: { audience: 'KeyVault', identityType: 'userAssigned', identityIdType: 'objectId', identityId: uai.objectId },
    });
    section(`ManagedIdentityToken@1 on App Service (IDENTITY_ENDPOINT), user-assigned ${uai.name} by object ID`, appService);

    const aks = await runTask({ taskDir, env: workloadIdentityEnv(emu), inputs: { audience: 'AzureDevOps' } });
    section('ManagedIdentityToken@1 in AKS with workload identity (federated token exchanged at Entra ID)', aks);

    // A later script step: the secret reaches it only through an env mapping, and the agent masks it.
    const token = arm.variables.get('ArmToken')?.value ?? '';
    const script = spawnSync('bash', ['-c', 'echo "token length: ${#TOKEN}; first characters: ${TOKEN:0:12}…"; echo "full token: $TOKEN"'], {
      env: { PATH: process.env.PATH, TOKEN: token, ARMTOKEN_EXPIRESON: arm.variables.get('ArmToken.expiresOn')?.value },
      encoding: 'utf8',
    });
    const masked = arm.secrets.reduce((t, s) => t.split(s).join('***'), script.stdout);
    console.log(`\n\x1b[1m── script step (env: TOKEN: $(ArmToken)) ──\x1b[0m\n${masked.trim()}`);

    const bad = await runTask({ taskDir, env, inputs: { audience: 'https://graph.microsoft.com/.default https://vault.azure.net/.default' } });
    section('ManagedIdentityToken@1 with a bad audience (fails before any request)', bad);

    const ok = [arm, devops, appService, aks].every((r) => r.result === 'Succeeded') && bad.result === 'Failed';
    console.log(`\nDemo ${ok ? 'finished: every token run succeeded and the bad input was refused' : 'FAILED'}.`);
    if (!ok) process.exitCode = 1;
  } finally {
    await emu.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
