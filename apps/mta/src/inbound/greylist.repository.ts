import type { Db } from '@mailroom/db';

const PENDING_TTL_HOURS = 24;
const PASSED_TTL_DAYS = 35;

/** A greylist triplet as its first sighting left it. */
export interface TripletState {
  /** Seen for the first time just now. */
  inserted: boolean;
  /** Passed before, and still remembered. */
  passed: boolean;
  /** First seen at least the delay ago. */
  due: boolean;
}

/** The greylist table: triplets keyed by network, sender and recipient (platform data, no tenant). */
export class GreylistRepository {
  constructor(private readonly db: Db) {}

  /** Records a sighting of the triplet (kept a day while pending) and returns its state. */
  async sight(key: string, delaySeconds: number): Promise<TripletState | null> {
    const rows = await this.db.$queryRaw<TripletState[]>`
      INSERT INTO greylist (key, expires_at) VALUES (${key}, now() + make_interval(hours => ${PENDING_TTL_HOURS}::int))
      ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
      RETURNING (xmax = 0) AS inserted, passed_at IS NOT NULL AND expires_at > now() AS passed,
        first_seen_at <= now() - make_interval(secs => ${delaySeconds}::float8) AS due`;
    return rows[0] ?? null;
  }

  /** The triplet passed: remembered for a month. */
  async markPassed(key: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE greylist SET passed_at = now(), expires_at = now() + make_interval(days => ${PASSED_TTL_DAYS}::int)
      WHERE key = ${key}`;
  }
}
