/**
 * Redis may evict keys under memory pressure with a policy that can drop the per-user indexes,
 * logging their users out and losing their not-befores. Thrown at start-up; see
 * docs/guarantees.md, "Redis memory policy".
 */
export class UnsafeEvictionPolicyError extends Error {
  override readonly name = 'UnsafeEvictionPolicyError';

  static create(node: string, policy: string): UnsafeEvictionPolicyError {
    return new UnsafeEvictionPolicyError(
      `Redis ${node} has maxmemory-policy "${policy}" with a maxmemory limit: it can evict the ` +
        'per-user session indexes, and revocation would then miss sessions. Set ' +
        'maxmemory-policy to "noeviction" (or remove the maxmemory limit), or pass ' +
        '`allowUnsafeEviction: true` to accept that risk.',
    );
  }
}
