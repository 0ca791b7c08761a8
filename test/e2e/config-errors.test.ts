import { describe, expect, it } from 'vitest';
import { APP_ENTRY, appEnv, runNode } from '@test/support/processes';

describe('an app started with invalid configuration', () => {
  it.each(['api', 'mta', 'worker'] as const)('%s exits 1 with one line naming the variable', async (app) => {
    const env = await appEnv(process.env.DATABASE_URL!);
    delete env.MX_HOSTNAME;
    const sut = runNode(APP_ENTRY[app], [], env);
    expect(await sut.exited).toBe(1);
    const lines = sut.output().trim().split('\n');
    expect(lines).toEqual([`${app}: invalid configuration: MX_HOSTNAME: required: a host name such as mx.example.net`]);
  });

  it('names each of several bad variables on its own line', async () => {
    const env = await appEnv(process.env.DATABASE_URL!, { MASTER_KEY: 'too-short', DATABASE_URL: 'http://db' });
    const sut = runNode(APP_ENTRY.api, [], env);
    expect(await sut.exited).toBe(1);
    const lines = sut.output().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^api: invalid configuration: DATABASE_URL: must be a postgresql:\/\/ URL$/);
    expect(lines[1]).toMatch(/^api: invalid configuration: MASTER_KEY: must be 32 bytes/);
  });
});
