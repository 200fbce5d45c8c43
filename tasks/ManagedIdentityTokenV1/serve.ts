/**
 * The identity server's process (serveIdentity): started detached by the
 * token task, it takes its configuration over IPC and serves the job's
 * identity until the post-job step stops it (see src/core/identity-server).
 * Like post.js, it runs index.js in a stage of its own: one bundle keeps the
 * task folder within its size budget.
 */
import * as path from 'node:path';
import { SERVE_STAGE } from './stage';

(globalThis as { [SERVE_STAGE]?: boolean })[SERVE_STAGE] = true;
require(path.join(__dirname, 'index.js'));
