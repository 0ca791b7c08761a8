import { APP_ENTRY, appEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';

export interface MtaProcess {
  port: number;
  env: Record<string, string>;
  proc: RunningProcess;
  /** kill -9, then waits for the exit. */
  kill(): Promise<void>;
  /** Starts the same MTA again (same ports, same data dir) and waits for /health 200. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The built MTA (dist/apps/mta) as its own process, the way operators run it. */
export async function startMtaProcess(
  databaseUrl: string,
  dnsPort: number,
  overrides: Record<string, string> = {},
  /** How long the boot may take until /health answers 200 (many processes starting at once take longer). */
  bootTimeoutMs = 60_000,
): Promise<MtaProcess> {
  const env = await appEnv(databaseUrl, {
    DNS_SERVERS: `127.0.0.1:${dnsPort}`,
    DNS_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'error',
    ...overrides,
  });
  const boot = async () => {
    const p = runNode(APP_ENTRY.mta, [], env);
    const url = `http://127.0.0.1:${env.MTA_HEALTH_PORT}/health`;
    try {
      await waitForHttp(url, p, bootTimeoutMs, 200);
    } catch (err) {
      // Say which check failed, and never leave a half-started MTA behind.
      const body = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.text(),
        (e: unknown) => String(e),
      );
      await p.stop();
      throw new Error(`the MTA did not become healthy (${body}): ${String(err)}`);
    }
    return p;
  };
  const handle: MtaProcess = {
    port: Number(env.SMTP_PORT),
    env,
    proc: await boot(),
    async kill() {
      handle.proc.child.kill('SIGKILL');
      await handle.proc.exited;
    },
    async restart() {
      handle.proc = await boot();
    },
    stop: () => handle.proc.stop(),
  };
  return handle;
}
