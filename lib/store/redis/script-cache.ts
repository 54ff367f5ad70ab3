import type { Cluster, Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/**
 * Runs the module's Lua scripts by digest (EVALSHA), so a script that runs on every request is
 * not sent whole each time; a server that does not have it (restarted, failed over, flushed)
 * answers NOSCRIPT, and then the script is sent once with EVAL, which caches it there again.
 */
export class ScriptCache {
  private readonly digests = new Map<string, string>();

  constructor(private readonly client: Redis | Cluster) {}

  async run(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(this.digest(script), keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.eval(script, keys.length, ...keys, ...args);
    }
  }

  /**
   * Caches the scripts on these servers ahead of their first use (SCRIPT LOAD), so a request
   * does not pay the NOSCRIPT round trip; `run` still copes with a server that lost them.
   */
  async load(servers: Redis[], scripts: string[]): Promise<void> {
    await Promise.all(
      servers.flatMap((server) => scripts.map((script) => server.script('LOAD', script))),
    );
  }

  private digest(script: string): string {
    let digest = this.digests.get(script);
    if (digest === undefined) {
      digest = createHash('sha1').update(script).digest('hex');
      this.digests.set(script, digest);
    }
    return digest;
  }
}
