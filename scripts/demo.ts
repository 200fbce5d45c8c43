/**
 * npm run demo: starts the Azure emulator on loopback and runs the bundled
 * ManagedIdentityToken@1 as an agent would (INPUT_*, AGENT_TEMPDIRECTORY,
 * SYSTEM_*), then a later script step that uses the token through env:,
 * then the Azure DevOps CLI, the Azure DevOps check and Terraform's ARM_*
 * against the emulated organization and instance metadata (no az needed),
 * then ManagedIdentityInfo@1 with a Custom cloud pointed at the emulator as
 * Resource Manager and Key Vault; then serveIdentity on a scale set VM with
 * two user-assigned identities, where az, a Node script with
 * DefaultAzureCredential and a Terraform-style request in a later step all get
 * the chosen one (demo-serve.ts). Prints the pipeline log as the agent shows
 * it: secrets masked.
 */
import { spawnSync } from 'node:child_process';
import { appServiceEnv, devopsOf, imdsEnv, startEmulator, workloadIdentityEnv, worldOf } from '../emulator';
import { runTask, TaskRun } from '../emulator/agent';
import { buildExtension } from './build';
import { serveIdentityDemo } from './demo-serve';
import { stagedTask } from './paths';

/** A heading, bold on a terminal (plain when the output goes to a file or a pipe). */
function heading(title: string): string {
  return process.stdout.isTTY ? `\x1b[1m── ${title} ──\x1b[0m` : `── ${title} ──`;
}

function section(title: string, run: TaskRun): void {
  console.log(`\n${heading(title)}  (${run.durationMs} ms, result: ${run.result ?? 'none'})`);
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
    console.log(`\n${heading('script step (env: TOKEN: $(ArmToken))')}\n${masked.trim()}`);

    // Later tools: the Azure DevOps CLI's PAT variable, the organization's check of the identity, Terraform's environment.
    devopsOf(emu).addMember(emu.machine.systemAssigned!);
    const tools = await runTask({
      taskDir,
      env,
      variables: { 'System.CollectionUri': `${emu.url}/contoso/` },
      inputs: { audience: 'AzureDevOps', variableName: 'AdoToken', azureDevOpsLogin: 'true', verifyAzureDevOps: 'true', exportTerraformEnv: 'true' },
    });
    section('ManagedIdentityToken@1 (azureDevOpsLogin, verifyAzureDevOps against the emulated organization, exportTerraformEnv)', tools);
    const exported = [...tools.variables].filter(([name]) => name === 'AZURE_DEVOPS_EXT_PAT' || name.startsWith('ARM_'));
    console.log(`(variables for later steps: ${exported.map(([name, v]) => (v.secret ? `${name}=***` : `${name}=${v.value}`)).join(', ')})`);

    const bad = await runTask({ taskDir, env, inputs: { audience: 'https://graph.microsoft.com/.default https://vault.azure.net/.default' } });
    section('ManagedIdentityToken@1 with a bad audience (fails before any request)', bad);

    // ManagedIdentityInfo@1: the emulator is Resource Manager and Key Vault too (a Custom cloud at its URL).
    worldOf(emu).addResources(6);
    const infoDir = stagedTask('ManagedIdentityInfoV1');
    const atEmulator = { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/' };
    const info = await runTask({ taskDir: infoDir, env, inputs: { ...atEmulator, keyVaultNames: 'kv-agents, kv-legacy', listSecretNames: 'true' } });
    section('ManagedIdentityInfo@1 (system-assigned: identity, instance, Key Vault, resources, permissions)', info);
    const summary = info.summaries[0]?.file;
    if (summary) console.log(`(the markdown summary for the run's Extensions tab: ${summary})`);

    const reader = emu.machine.userAssigned[1];
    const denied = await runTask({
      taskDir: infoDir,
      env,
      inputs: { ...atEmulator, identityType: 'userAssigned', identityIdType: 'clientId', identityId: reader.clientId, sections: 'identity,resources' },
    });
    section(`ManagedIdentityInfo@1 (user-assigned ${reader.name}, which has no role yet: a warning with the fix)`, denied);

    const served = await serveIdentityDemo(section, heading);

    const ok =
      [arm, devops, appService, aks, tools, info].every((r) => r.result === 'Succeeded') && bad.result === 'Failed' && denied.result === 'SucceededWithIssues' && served.ok;
    console.log(`\nDemo ${ok ? 'finished: every token run succeeded, the bad input was refused, and the info runs showed what each identity can reach' : 'FAILED'}.`);
    if (!ok) process.exitCode = 1;
  } finally {
    await emu.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
