import {
  Body,
  Controller,
  Get,
  Inject,
  Module,
  Post,
  Req,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  ConnectedSocket,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Request } from 'express';
import {
  Public,
  Session,
  SessionAuthGuard,
  SessionLoginService,
  SessionRevocationService,
  SessionUserId,
  Tenant,
  TenantSessionModule,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import {
  TenantSessionIoAdapter,
  type TenantSessionIoAdapterOptions,
  type TenantSocketData,
} from 'nestjs-tenant-session/socket.io';
import { Agent, type AgentOptions, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { TEST_HOSTS, TEST_SECRET } from './test-app.js';
import type { TestPlatform } from './testing-app.js';

declare module 'express-session' {
  interface SessionData {
    user?: string;
  }
}

/** Where passport keeps its user in the session (not declared here, for other suites' sake). */
const passportOf = (req: Request) => req.session as unknown as { passport?: { user?: string } };

const callback = (run: (done: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => run((err) => (err ? reject(err) : resolve())));

/** The HTTP side: log in (ours or passport's way), log out, revoke, use the session. */
@Controller()
class WsTestController {
  constructor(
    private readonly logins: SessionLoginService,
    private readonly sessions: SessionRevocationService,
  ) {}

  @Public()
  @Post('login')
  async login(@Req() req: Request, @Body() body: { user: string }) {
    await this.logins.login(req, body.user, { data: { user: body.user } });
    return { user: body.user };
  }

  @Public()
  @Post('logout')
  async logout(@Req() req: Request) {
    await this.logins.logout(req);
    return { ok: true };
  }

  /** What passport's `req.logIn` does to the session: a new id, then `passport.user`. */
  @Public()
  @Post('passport-login')
  async passportLogin(@Req() req: Request, @Body() body: { user: string }) {
    await callback((done) => req.session.regenerate(done));
    passportOf(req).passport = { user: body.user };
    return { user: body.user };
  }

  /** What passport 0.7's `req.logout` does: drop `passport.user`, save, then a new session. */
  @Public()
  @Post('passport-logout')
  async passportLogout(@Req() req: Request) {
    delete passportOf(req).passport?.user;
    await callback((done) => req.session.save(done));
    await callback((done) => req.session.regenerate(done));
    return { ok: true };
  }

  /** Any request with the session restarts its idle TTL (the GETEX that loads it). */
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@SessionUserId() userId: string) {
    return { userId };
  }

  @Public()
  @Post('revoke-all')
  async revokeAll(@Tenant() tenant: string, @Body() body: { user: string }) {
    return { revoked: await this.sessions.revokeAll(tenant, body.user) };
  }

  @Post('revoke-others')
  @UseGuards(SessionAuthGuard)
  async revokeOthers(@Req() req: Request) {
    return { revoked: await this.sessions.revokeOthers(req) };
  }

  @Public()
  @Post('revoke-tenant')
  async revokeTenant(@Tenant() tenant: string) {
    return { revoked: await this.sessions.revokeTenant(tenant) };
  }
}

/** Runs between the library's handshake (session read) and the connection, when a test sets it. */
const BEFORE_CONNECT = Symbol('BeforeConnect');
type BeforeConnect = { run?: () => Promise<void> };

/** The socket side: what a gateway gets from the library. */
@WebSocketGateway()
class WsTestGateway implements OnGatewayInit {
  constructor(@Inject(BEFORE_CONNECT) private readonly beforeConnect: BeforeConnect) {}

  /** Middleware added here runs after the adapter's (which read the session). */
  afterInit(server: { use(fn: (socket: unknown, next: (err?: Error) => void) => void): void }) {
    server.use((_socket, next) => {
      const run = this.beforeConnect.run;
      if (!run) return next();
      run().then(() => next(), next);
    });
  }

  /** Open to anyone, also under a global guard. */
  @Public()
  @SubscribeMessage('whoami')
  whoami(
    @Tenant() tenant: string,
    @Session('user') user: string | undefined,
    @ConnectedSocket() socket: { data: TenantSocketData },
  ) {
    const { userId, sessionHandle } = socket.data;
    return { tenant, user: user ?? null, userId: userId ?? null, sessionHandle, data: socket.data };
  }

  @UseGuards(SessionAuthGuard)
  @SubscribeMessage('secret')
  secret(@SessionUserId() userId: string) {
    return { userId };
  }

  /** Unguarded (when no global guard): the decorator alone refuses anonymous sockets. */
  @Public()
  @SubscribeMessage('user-id')
  userId(@SessionUserId() userId: string) {
    return { userId };
  }

  /** Behind a global SessionAuthGuard only (see `globalGuard`). */
  @SubscribeMessage('guarded-globally')
  guardedGlobally(@SessionUserId() userId: string) {
    return { userId };
  }
}

/** A gateway on a namespace of its own: the adapter prepares every namespace a gateway uses. */
@WebSocketGateway({ namespace: 'admin' })
class WsAdminGateway {
  @UseGuards(SessionAuthGuard)
  @SubscribeMessage('whoami')
  whoami(@Tenant() tenant: string, @SessionUserId() userId: string) {
    return { tenant, userId, namespace: 'admin' };
  }
}

export interface WsAppOptions extends Partial<TenantSessionModuleOptions> {
  appName: string;
  /** SessionAuthGuard as APP_GUARD, as apps that guard everything do. */
  globalGuard?: boolean;
  adapter?: TenantSessionIoAdapterOptions;
  /** Awaited after the adapter read a handshake's session and before the socket connects. */
  beforeConnect?: () => Promise<void>;
  /** The HTTP platform the app (and so its sockets' server) runs on; Express by default. */
  platform?: TestPlatform;
}

export interface WsApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  sessions: SessionRevocationService;
  close(): Promise<void>;
}

/**
 * A Nest app listening on a loopback port with the module (the test Redis unless `redis` is
 * given; `redis: undefined` for the embedded store), TenantSessionIoAdapter and a gateway.
 */
export async function startWsApp({
  globalGuard = false,
  adapter,
  beforeConnect,
  platform = 'express',
  ...options
}: WsAppOptions): Promise<WsApp> {
  @Module({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        ...options,
        redis: 'redis' in options ? options.redis : process.env.TEST_REDIS_URL,
      }),
    ],
    controllers: [WsTestController],
    providers: [
      { provide: BEFORE_CONNECT, useValue: { run: beforeConnect } satisfies BeforeConnect },
      WsTestGateway,
      WsAdminGateway,
      ...(globalGuard ? [{ provide: APP_GUARD, useClass: SessionAuthGuard }] : []),
    ],
  })
  class WsTestModule {}

  const logger = process.env.TEST_LOGS ? undefined : (false as const);
  const app =
    platform === 'fastify'
      ? await NestFactory.create(WsTestModule, new FastifyAdapter(), { logger })
      : await NestFactory.create(WsTestModule, { logger });
  app.useWebSocketAdapter(new TenantSessionIoAdapter(app, adapter));
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    sessions: app.get(SessionRevocationService),
    close: () => (closing ??= app.close()),
  };
}

export interface ConnectOptions {
  host?: string;
  cookie?: string;
  origin?: string;
  transports?: ('websocket' | 'polling')[];
}

/**
 * Connections to any host name go to 127.0.0.1: long-polling requests (Node's XMLHttpRequest
 * stand-in) may not set a Host header, so polling clients address the test host by name.
 */
const loopbackAgent = new Agent({
  lookup: ((_host: string, options: { all?: boolean }, done: LookupCallback) =>
    options.all
      ? done(null, [{ address: '127.0.0.1', family: 4 }])
      : done(null, '127.0.0.1', 4)) as unknown as AgentOptions['lookup'],
});
type LookupCallback = (error: Error | null, address: unknown, family?: number) => void;

/**
 * A socket.io client for one host (the Host header the tenant resolves from), sending `cookie`;
 * resolves once connected, rejects with the `connect_error`. No reconnection: a test sees
 * exactly what the server did.
 */
export function connectSocket(
  url: string,
  { host = 'acme.test', cookie, origin, transports = ['websocket'] }: ConnectOptions = {},
): Promise<ClientSocket> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (origin) headers.origin = origin;
  const target = new URL(url);
  target.hostname = host;
  const socket = io(target.toString(), {
    transports,
    extraHeaders: headers,
    agent: loopbackAgent as unknown as string,
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
  });
  // Recorded from the start: the server may end a socket right after it connected.
  socket.on('session:ended', (payload: { reason: string }) => endedPayloads.set(socket, payload));
  socket.on('disconnect', (reason) => disconnectReasons.set(socket, reason));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Emits and waits for the acknowledgement (the handler's return value). */
export function ask<T = Record<string, unknown>>(socket: ClientSocket, event: string): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, {}) as Promise<T>;
}

/** The `exception` event a gateway answers with when a handler throws. */
export function nextException(
  socket: ClientSocket,
): Promise<{ status: string; message: string; cause?: unknown }> {
  return new Promise((resolve) => socket.once('exception', resolve));
}

export interface Ending {
  /** The `session:ended` payload, or undefined when none came before the disconnect. */
  ended?: { reason: string };
  /** socket.io-client's disconnect reason. */
  disconnect: string;
}

const endedPayloads = new WeakMap<ClientSocket, { reason: string }>();
const disconnectReasons = new WeakMap<ClientSocket, string>();

/** Resolves when the server disconnects the socket, with the `session:ended` it sent first. */
export function ending(socket: ClientSocket): Promise<Ending> {
  const outcome = () => ({
    ended: endedPayloads.get(socket),
    disconnect: disconnectReasons.get(socket)!,
  });
  return new Promise((resolve) => {
    if (disconnectReasons.has(socket)) return resolve(outcome());
    socket.once('disconnect', () => resolve(outcome()));
  });
}

/** Rejects when `promise` takes longer than `ms` (a bounded wait with a clear message). */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
