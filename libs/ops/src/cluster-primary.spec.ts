import { describe, expect, it } from 'vitest';
import { mergeWorkerHealth } from './cluster-primary';
import type { HealthReport } from './health';

const up = (...names: string[]): HealthReport => report(names, []);
const report = (upNames: string[], downNames: string[]): HealthReport => ({
  status: downNames.length ? 'error' : 'ok',
  info: Object.fromEntries(upNames.map((n) => [n, { status: 'up' as const }])),
  error: Object.fromEntries(downNames.map((n) => [n, { status: 'down' as const }])),
  details: Object.fromEntries([
    ...upNames.map((n) => [n, { status: 'up' as const }]),
    ...downNames.map((n) => [n, { status: 'down' as const }]),
  ]),
});

describe('mergeWorkerHealth', () => {
  it('is ok with workers up when every worker answered with every check up', () => {
    const sut = mergeWorkerHealth([up('database', 'redis'), up('database', 'redis')], 2);
    expect(sut).toEqual({
      status: 'ok',
      info: { workers: { status: 'up' }, database: { status: 'up' }, redis: { status: 'up' } },
      error: {},
      details: { workers: { status: 'up' }, database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('marks a check down when any one worker says it is down, whatever the others say', () => {
    const sut = mergeWorkerHealth([report(['database'], ['redis']), up('database', 'redis')], 2);
    expect(sut).toEqual({
      status: 'error',
      info: { workers: { status: 'up' }, database: { status: 'up' } },
      error: { redis: { status: 'down' } },
      details: { workers: { status: 'up' }, database: { status: 'up' }, redis: { status: 'down' } },
    });
  });

  it('keeps a check down once down, when a later worker says it is up', () => {
    const sut = mergeWorkerHealth([report([], ['database']), up('database')], 2);
    expect(sut.details.database).toEqual({ status: 'down' });
    expect(sut.info).not.toHaveProperty('database');
    expect(sut.error.database).toEqual({ status: 'down' });
  });

  it('marks workers down when a worker did not answer in time, keeping the others checks', () => {
    const sut = mergeWorkerHealth([up('database'), null], 2);
    expect(sut).toEqual({
      status: 'error',
      info: { database: { status: 'up' } },
      error: { workers: { status: 'down' } },
      details: { workers: { status: 'down' }, database: { status: 'up' } },
    });
  });

  it('marks workers down when fewer workers are live than configured', () => {
    const sut = mergeWorkerHealth([up('database')], 2);
    expect(sut.status).toBe('error');
    expect(sut.details).toEqual({ workers: { status: 'down' }, database: { status: 'up' } });
  });
});
