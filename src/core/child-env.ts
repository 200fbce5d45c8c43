/**
 * The environment for a child process: the parent's, with some names set.
 * Windows treats environment names without regard to case, but a copied
 * environment is a plain object: an inherited `Azure_Config_Dir` beside a new
 * `AZURE_CONFIG_DIR` would give the child two values and let Windows pick.
 * On win32 the inherited entry that differs only in case is dropped.
 */
export function childEnv(base: NodeJS.ProcessEnv, set: Record<string, string>, platform: NodeJS.Platform = process.platform): Record<string, string> {
  const fold = (name: string) => (platform === 'win32' ? name.toUpperCase() : name);
  const replaced = new Set(Object.keys(set).map(fold));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !replaced.has(fold(k))) env[k] = v;
  return { ...env, ...set };
}
