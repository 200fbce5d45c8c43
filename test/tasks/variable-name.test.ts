/** variableName: the names the agent and the task set are refused, any other valid name is taken (tasks/common/inputs.ts). */
import { strict as assert } from 'node:assert';
import { isUsableVariableName } from '../../tasks/common/inputs';

describe('isUsableVariableName', () => {
  it("refuses the agent's names and namespaces, in either spelling the environment merges", () => {
    for (const name of ['Agent.TempDirectory', 'AGENT_TEMPDIRECTORY', 'System.AccessToken', 'Build.BuildId', 'Release.ReleaseId', 'Pipeline.Workspace', 'Task.DisplayName', 'Environment.Name', 'Resources.Pipeline.x']) {
      assert.equal(isUsableVariableName(name), false, name);
    }
  });

  it('refuses what the agent and task-lib read from the environment, and PATH', () => {
    for (const name of ['input.audience', 'INPUT_AUDIENCE', 'endpoint.url', 'secret.token', 'SECRET_X', 'securefile.name', 'VSTS_TASKVARIABLE_X', 'Path', 'PATH']) {
      assert.equal(isUsableVariableName(name), false, name);
    }
  });

  it('refuses the variables the tasks export for later steps', () => {
    for (const name of ['AZURE_CONFIG_DIR', 'azure_config.dir', 'AZURE_DEVOPS_EXT_PAT', 'ARM_CLIENT_ID', 'ARM_ACCESS_TOKEN', 'InfoJsonPath', 'IDENTITY_ENDPOINT', 'Identity.Header', 'MSI_ENDPOINT', 'msi_secret', 'AZURE_CLIENT_ID']) {
      assert.equal(isUsableVariableName(name), false, name);
    }
  });

  it('takes every other valid name, those that only start like a reserved word included', () => {
    for (const name of ['ManagedIdentityToken', 'SecretToken', 'InputToken', 'Pathfinder', 'Agentless', 'Systemic', 'arm-token.prod', 'AdoToken', '_private', 'ArmToken']) {
      assert.equal(isUsableVariableName(name), true, name);
    }
  });

  it('refuses malformed names', () => {
    for (const name of ['my token', '1abc', 'a;b', 'a]b', '', 'x'.repeat(101)]) assert.equal(isUsableVariableName(name), false, JSON.stringify(name));
  });
});
