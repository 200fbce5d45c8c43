/**
 * The identity server's process (serveIdentity): started detached by the
 * token task, it takes its configuration over IPC and serves the job's
 * identity until the post-job step stops it (see src/core/identity-server).
 */
import { runServerChild } from '../../src/core/identity-server/process';

runServerChild();
