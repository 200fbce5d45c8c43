/** Unpacks a .vsix (a zip) with jszip, so the black-box test needs no system unzip. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import JSZip from 'jszip';

export async function unzip(file: string, into: string): Promise<void> {
  const zip = await JSZip.loadAsync(readFileSync(file));
  for (const entry of Object.values(zip.files)) {
    const target = normalize(join(into, entry.name));
    if (!target.startsWith(normalize(into) + sep)) throw new Error(`${file}: entry ${entry.name} points outside the folder`);
    if (entry.dir) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.async('nodebuffer'));
  }
}
