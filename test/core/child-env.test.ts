/** A child's environment: on Windows (injected) one value per name whatever its case. */
import { strict as assert } from 'node:assert';
import { childEnv } from '../../src/core/child-env';

describe('childEnv', () => {
  const base = { Path: 'C:\\Windows', Azure_Config_Dir: 'C:\\Users\\me\\.azure', KEEP: '1', GONE: undefined };

  it('on Windows drops an inherited name that differs only in case from one it sets', () => {
    assert.deepEqual(childEnv(base, { AZURE_CONFIG_DIR: 'D:\\t\\azure-cli-mi-1' }, 'win32'), { Path: 'C:\\Windows', KEEP: '1', AZURE_CONFIG_DIR: 'D:\\t\\azure-cli-mi-1' });
  });

  it('elsewhere keeps names that differ in case, as the system does', () => {
    assert.deepEqual(childEnv(base, { AZURE_CONFIG_DIR: '/t/x' }, 'linux'), { Path: 'C:\\Windows', Azure_Config_Dir: 'C:\\Users\\me\\.azure', KEEP: '1', AZURE_CONFIG_DIR: '/t/x' });
  });
});
