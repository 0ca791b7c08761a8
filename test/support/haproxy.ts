import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Debian's HAProxy (scripts/services.sh tools installs it). */
export const HAPROXY = '/usr/sbin/haproxy';

export interface ProxiedPort {
  /** Where HAProxy listens on 127.0.0.1. */
  listen: number;
  /** The app's port on 127.0.0.1 it forwards to. */
  to: number;
  /** `send-proxy` (v1) or `send-proxy-v2`. */
  version: 1 | 2;
}

export interface RunningHaproxy {
  output(): string;
  stop(): Promise<void>;
}

/**
 * HAProxy in TCP mode in front of the apps, as compose/haproxy.cfg runs it: one frontend per
 * port, each prefixing the connection with a PROXY header naming the client.
 */
export async function startHaproxy(ports: ProxiedPort[]): Promise<RunningHaproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-haproxy-'));
  const config = [
    'global',
    '  maxconn 1000',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    ...ports.flatMap((p, i) => [
      `listen p${i}`,
      `  bind 127.0.0.1:${p.listen}`,
      `  server app 127.0.0.1:${p.to} ${p.version === 2 ? 'send-proxy-v2' : 'send-proxy'}`,
    ]),
  ].join('\n');
  return runHaproxy(
    dir,
    `${config}\n`,
    ports.map((p) => p.listen),
  );
}

export interface HaproxyProcess extends RunningHaproxy {
  /** Null while it runs. */
  exitCode(): number | null;
}

/**
 * Writes `config` into `dir` (a fresh temporary folder, removed by stop) and runs HAProxy on it
 * in the foreground (-db), so the test owns the process and SIGTERM stops it; resolves once it
 * accepts connections on every port of `listen`.
 */
export async function runHaproxy(dir: string, config: string, listen: number[]): Promise<HaproxyProcess> {
  if (!fs.existsSync(HAPROXY)) {
    throw new Error(
      `${HAPROXY} is missing: install Debian's package haproxy (scripts/services.sh tools does, as root)`,
    );
  }
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, config);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (const port of listen) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`haproxy did not listen on ${port}: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    output: () => out,
    exitCode: () => child.exitCode,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True once something listens on 127.0.0.1:port (a bare connect, closed at once). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
