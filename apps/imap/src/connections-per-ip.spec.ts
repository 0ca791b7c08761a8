import { describe, expect, it } from 'vitest';
import { ConnectionsPerIp } from './connections-per-ip';

describe('ConnectionsPerIp', () => {
  it('admits up to the limit per address and frees a slot on release', () => {
    const sut = new ConnectionsPerIp(2);
    const a = sut.acquire('192.0.2.1');
    const b = sut.acquire('::ffff:192.0.2.1');
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(sut.acquire('192.0.2.1')).toBeNull();
    expect(sut.acquire('192.0.2.2')).not.toBeNull();
    a!();
    a!(); // a second release of the same connection frees nothing more
    expect(sut.acquire('192.0.2.1')).not.toBeNull();
    expect(sut.acquire('192.0.2.1')).toBeNull();
  });
});
