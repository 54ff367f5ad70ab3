import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a redis-server that can be shut like a gate: `close()` drops every
 * connection through it and refuses new ones (the app's Redis is unreachable, for this app
 * only), `open()` lets connections through again. `replyDelayMs` holds each reply back that
 * long (in order), as a slow network or a busy app would. Everything else passes unchanged.
 */
export class TcpGate {
  private readonly links = new Set<Socket>();
  private shut = false;
  replyDelayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(targetPort: number): Promise<TcpGate> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    const gate = new TcpGate(server, `redis://127.0.0.1:${port}`);
    server.on('connection', (app) => gate.link(app, targetPort));
    return gate;
  }

  close(): void {
    this.shut = true;
    for (const socket of this.links) socket.destroy();
    this.links.clear();
  }

  open(): void {
    this.shut = false;
  }

  async stop(): Promise<void> {
    this.close();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private link(app: Socket, targetPort: number): void {
    if (this.shut) return void app.destroy();
    const redis = connect(targetPort, '127.0.0.1');
    app.pipe(redis);
    let replies = Promise.resolve();
    redis.on('data', (chunk: Buffer) => {
      const delayMs = this.replyDelayMs;
      replies = replies
        .then(() => delayMs > 0 && new Promise((resolve) => setTimeout(resolve, delayMs)))
        .then(() => void (app.destroyed || app.write(chunk)));
    });
    for (const [from, to] of [
      [app, redis],
      [redis, app],
    ]) {
      this.links.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.links.delete(from);
        to.destroy();
      });
    }
  }
}
