/**
 * tasks/common/report.ts. attachSummary: a run summary holds no token, so one
 * that cannot be made private (icacls refused on Windows, injected here) is
 * skipped with a warning naming the reason, and the step goes on; the secret
 * files keep failing the step (test/core/private-path.test.ts).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import type { PrivateHost } from '../../src/core/private-path';
import { attachSummary, logRetry } from '../../tasks/common/report';

const ROOT = join(__dirname, '..', '..', '..');

function captureStdout(body: () => void): string {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    body();
  } finally {
    process.stdout.write = write;
  }
  return text;
}

describe('attachSummary', () => {
  let saved: string | undefined;
  let temp: string;
  before(() => tl.setResourcePath(join(ROOT, 'tasks', 'ManagedIdentityTokenV1', 'task.json')));
  beforeEach(() => {
    saved = process.env.AGENT_TEMPDIRECTORY;
    temp = mkdtempSync(join(tmpdir(), 'summary-'));
    process.env.AGENT_TEMPDIRECTORY = temp;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.AGENT_TEMPDIRECTORY;
    else process.env.AGENT_TEMPDIRECTORY = saved;
  });

  it('skips a summary that icacls cannot make private, with a warning that names the path and icacls output, and attaches nothing', () => {
    const host: PrivateHost = {
      platform: 'win32',
      env: { SystemRoot: 'C:\\WINDOWS', USERDOMAIN: 'CONTOSO', USERNAME: 'agentsvc' },
      run: (file) => (/whoami/i.test(file) ? { status: 0, output: '"contoso\\agentsvc","S-1-5-21-1-2-3-1013"' } : { status: 5, output: 'Access is denied.' }),
      chmod: () => undefined,
    };
    let file: string | undefined = 'unset';
    const out = captureStdout(() => {
      file = attachSummary('ManagedIdentityToken-T', 'Managed identity token T', '### T\n', host);
    });
    assert.equal(file, undefined);
    const warning = out.split('\n').find((l) => l.startsWith('##vso[task.issue type=warning'));
    assert.ok(warning, out);
    assert.match(warning, /The run summary 'Managed identity token T' was skipped: .*icacls exit 5: Access is denied\..*holds no token/);
    assert.doesNotMatch(out, /task\.addattachment/);
    assert.deepEqual(readdirSync(temp), [], 'no summary file and no temporary file left');
  });

  it('attaches a summary it could write', () => {
    let file: string | undefined;
    const out = captureStdout(() => {
      file = attachSummary('ManagedIdentityToken-T', 'Managed identity token T', '### T\n');
    });
    assert.ok(file && file.startsWith(temp), file);
    assert.match(out, /##vso\[task\.addattachment type=Distributedtask\.Core\.Summary;name=Managed identity token T;\]/);
  });
});

describe('logRetry', () => {
  before(() => tl.setResourcePath(join(ROOT, 'tasks', 'ManagedIdentityTokenV1', 'task.json')));

  it('writes a reason from outside inert, in the debug line of an early attempt and the line of the last', () => {
    for (const last of [false, true]) {
      const out = captureStdout(() => logRetry({ attempt: 1, delayMs: 1000, reason: 'x ##vso[task.setvariable variable=A]b\n##[error]c', last, source: 'IMDS' }));
      const lines = out.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, out);
      assert.equal(lines[0].startsWith('##vso[task.debug]'), !last, out);
      assert.doesNotMatch(lines[0].replace(/^##vso\[task\.debug\]/, ''), /##(vso)?\[/, out);
    }
  });
});
