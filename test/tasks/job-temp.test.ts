/** What a post-job step believes of a path in its record (tasks/common/job-temp.ts): absolute, named by this task, directly in the job's temporary folder. */
import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isJobTempPath, jobTempFolder } from '../../tasks/common/job-temp';

describe('isJobTempPath', () => {
  const NAME = /^thing-[0-9a-f]{4}$/;
  let saved: string | undefined;
  const temp = join(tmpdir(), 'agent-temp');
  beforeEach(() => {
    saved = process.env.AGENT_TEMPDIRECTORY;
    process.env.AGENT_TEMPDIRECTORY = temp;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.AGENT_TEMPDIRECTORY;
    else process.env.AGENT_TEMPDIRECTORY = saved;
  });

  it('takes Agent.TempDirectory, else the system temp folder', () => {
    assert.equal(jobTempFolder(), temp);
    delete process.env.AGENT_TEMPDIRECTORY;
    assert.equal(jobTempFolder(), tmpdir());
  });

  it('believes a path of the right name directly in the job temporary folder', () => {
    assert.equal(isJobTempPath(join(temp, 'thing-0a1b'), NAME), true);
  });

  it('refuses a relative path, another name, a deeper or shallower folder, and a way out through ..', () => {
    for (const path of ['thing-0a1b', join(temp, 'thing-zzzz'), join(temp, 'thing-0a1b-x'), join(temp, 'sub', 'thing-0a1b'), join(tmpdir(), 'thing-0a1b'), join(temp, 'sub', '..', '..', 'thing-0a1b')]) {
      assert.equal(isJobTempPath(path, NAME), false, path);
    }
  });
});
