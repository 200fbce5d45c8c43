/** The emulator as Resource Manager and IMDS for core tests: a Custom cloud at its URL, and an ARM client with a token it minted. */
import { AzureEmulator, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { armClient, ArmClient } from '../../src/core/arm';
import { Cloud, customCloud } from '../../src/core/clouds';
import type { IdentitySelector } from '../../src/core/identity';
import type { RestOptions } from '../../src/core/rest';

export const ARM_AUDIENCE = 'https://management.azure.com/';

export function emulatorCloud(emu: AzureEmulator, audience = ARM_AUDIENCE, base = emu.url): Cloud {
  return customCloud(base, audience);
}

export async function emulatorArm(emu: AzureEmulator, options: RestOptions & { identity?: IdentitySelector; audience?: string; base?: string } = {}): Promise<ArmClient> {
  const cloud = emulatorCloud(emu, options.audience, options.base);
  const token = await acquireToken({ audience: parseAudience(cloud.armAudience), cloud, identity: options.identity, env: imdsEnv(emu) });
  return armClient(cloud.armEndpoint, token.token, { objectId: token.claims?.oid, audience: cloud.armAudience }, options);
}
