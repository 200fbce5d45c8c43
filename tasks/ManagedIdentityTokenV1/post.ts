/**
 * ManagedIdentityToken@1 post-job step (task.json postjobexecution): the
 * agent runs this file, which runs index.js in its post-job stage. Sharing
 * index.js's bundle keeps the task folder small.
 */
import * as path from 'node:path';
import { POST_JOB_STAGE } from './stage';

(globalThis as { [POST_JOB_STAGE]?: boolean })[POST_JOB_STAGE] = true;
require(path.join(__dirname, 'index.js'));
