import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a redis-server that can be shut like a gate: `close()` drops every
 * connection through it and refuses new ones (the app's Redis is unreachable, for this app
 * only), `open()` lets connections through again. `replyDelayMs` holds each reply back that
 * long (in order), as a slow network or a busy app would; `requestDelayMs` holds each command
 * back on its way to Redis (in order), as a lagging event loop or a slow network would.
 * Everything else passes unchanged.
 */
export class TcpGate {
  private readonly links = new Set<Socket>();
  private shut = false;
  replyDelayMs = 0;
  requestDelayMs = 0;

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
    delayed(app, redis, () => this.requestDelayMs);
    delayed(redis, app, () => this.replyDelayMs);
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

/** Forwards what `from` sends to `to`, in order, each chunk held back `delayMs()` as it arrives. */
function delayed(from: Socket, to: Socket, delayMs: () => number): void {
  let queue = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const holdMs = delayMs();
    queue = queue
      .then(() => holdMs > 0 && new Promise((resolve) => setTimeout(resolve, holdMs)))
      .then(() => void (to.destroyed || to.write(chunk)));
  });
}
