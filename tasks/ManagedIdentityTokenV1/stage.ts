/** The flag post.js sets before it loads index.js, so index.js runs the post-job clean-up instead of the task. */
export const POST_JOB_STAGE = '__managedIdentityTokenPostJob';
/** The flag serve.js sets before it loads index.js, so index.js runs the identity server (serveIdentity). */
export const SERVE_STAGE = '__managedIdentityTokenServe';

export function isPostJob(): boolean {
  return (globalThis as { [POST_JOB_STAGE]?: boolean })[POST_JOB_STAGE] === true;
}

export function isServe(): boolean {
  return (globalThis as { [SERVE_STAGE]?: boolean })[SERVE_STAGE] === true;
}
