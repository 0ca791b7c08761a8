/**
 * At most `limit` tasks at a time; the rest wait in arrival order. The inbound MX runs the work
 * between the end of DATA and the reply through one: with 200 sessions ending DATA together,
 * everything past the database pool would only wait for a connection while holding its parsed
 * headers, authentication state and encoded query, so that waiting costs memory, not throughput.
 */
export class WorkLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; only when none waits is it given back.
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Tasks running and waiting, for tests and metrics. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
