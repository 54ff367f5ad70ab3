import { connect, createServer, type Server, type Socket } from 'node:net';
import type { CommandMonitor } from './monitor.js';

interface Link {
  app: Socket;
  redis: Socket;
  severed: boolean;
}

/**
 * A loopback TCP proxy between an app and its redis-server that makes "between two steps"
 * exact. An app sends its next step as soon as it reads the reply to the previous one, and that
 * reply usually reaches the app before MONITOR's line for the same command reaches the test (a
 * probe without this proxy: 19 of 20 next commands ran before a SIGSTOP sent on the MONITOR
 * line). So each chunk the app sends is held until the monitor has caught up with everything
 * the server ran before it (`CommandMonitor.barrier`): a trigger on step k has then fired, and
 * the server is frozen (step k+1 waits, and runs once it is resumed) or the link is severed
 * (step k+1 is never sent, as if the app had crashed right after reading step k's reply).
 * Replies go back unhindered.
 */
export class FaultProxy {
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(redisPort: number, monitor: CommandMonitor): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    const proxy = new FaultProxy(server, `redis://127.0.0.1:${port}`);
    server.on('connection', (app) => proxy.link(app, redisPort, monitor));
    return proxy;
  }

  /** Drops every connection and what they have not yet delivered: the app crashed here. */
  sever(): void {
    for (const link of this.links) this.drop(link);
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private link(app: Socket, redisPort: number, monitor: CommandMonitor): void {
    const link: Link = { app, redis: connect(redisPort, '127.0.0.1'), severed: false };
    this.links.add(link);
    let delivered = Promise.resolve();
    app.on('data', (chunk: Buffer) => {
      delivered = delivered
        .then(() => monitor.barrier())
        .then(() => void (link.severed || link.redis.write(chunk)));
    });
    link.redis.on('data', (chunk: Buffer) => link.severed || link.app.write(chunk));
    // An app that closes its connection has it closed towards Redis once the rest is through.
    app.on('end', () => void delivered.then(() => link.redis.end()));
    link.redis.on('end', () => link.app.end());
    for (const socket of [app, link.redis]) {
      socket.on('error', () => this.drop(link));
      socket.on('close', () => this.links.delete(link));
    }
  }

  private drop(link: Link): void {
    link.severed = true;
    link.app.destroy();
    link.redis.destroy();
    this.links.delete(link);
  }
}
