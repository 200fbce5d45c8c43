/** README.md and overview.md: every YAML example with a bash step has its PowerShell twin, for Windows agents. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/paths';

describe('YAML examples on Windows agents', () => {
  for (const doc of ['README.md', 'overview.md']) {
    it(`${doc}: each block with a bash: step has as many pwsh: steps, and the Key Vault read and Connect-AzAccount are there`, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      let blocks = 0;
      for (const [, block] of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
        const bash = (block.match(/^\s*- bash:/gm) ?? []).length;
        const pwsh = (block.match(/^\s*- pwsh:/gm) ?? []).length;
        if (bash) blocks++;
        assert.ok(pwsh >= bash, `${doc}: a block with ${bash} bash: step(s) and ${pwsh} pwsh: step(s):\n${block}`);
      }
      assert.ok(blocks >= 5, `${doc} has ${blocks} examples with bash:`);
      assert.match(text, /- pwsh: \|[\s\S]*?Invoke-RestMethod -Headers @\{ Authorization = "Bearer \$env:KV_TOKEN" \}[\s\S]*?vault\.azure\.net\/secrets\//);
      assert.match(text, /Connect-AzAccount -AccessToken \$env:\w+ -AccountId \$env:CLIENT_ID/);
    });
  }
});
