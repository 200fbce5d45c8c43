/**
 * Runs inside a network namespace that clients.ts made (unshare -n, with
 * 169.254.169.254 on its loopback): listens on the addresses a client expects
 * (the well-known IMDS address, a port for Resource Manager, …), carries each
 * connection to a Unix socket that the test's process serves (Unix sockets
 * belong to the file system, not to a network namespace), then runs the
 * client and exits with its exit code.
 * `node netns-bridge.js '<json [{host, port, socket}]>' command args…`
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, Server, Socket } from 'node:net';

interface Bridge {
  host: string;
  port: number;
  socket: string;
}

/** Carries a connection both ways to another one; either end's error or close ends both. */
export function splice(inbound: Socket, outbound: Socket): void {
  inbound.pipe(outbound).pipe(inbound);
  const end = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on('error', end).on('close', end);
  outbound.on('error', end).on('close', end);
}

async function main(): Promise<void> {
  const [spec, command, ...args] = process.argv.slice(2);
  const servers: Server[] = [];
  for (const b of JSON.parse(spec) as Bridge[]) {
    const server = createServer((inbound) => splice(inbound, connect(b.socket)));
    server.listen(b.port, b.host);
    await once(server, 'listening');
    servers.push(server);
  }
  const child = spawn(command, args, { stdio: 'inherit' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  for (const s of servers) s.close();
  process.exit(code ?? (signal ? 128 : 1));
}

if (require.main === module) {
  void main().catch((e) => {
    console.error(`netns-bridge: ${String(e)}`);
    process.exit(125);
  });
}
