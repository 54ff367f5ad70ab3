import express from 'express';
import type { IncomingMessage } from 'node:http';
import { TenantIdentifier } from './tenant-identifier.js';
import { createTenantResolver } from './tenant-resolver.js';

/** A plain Node request, as a WebSocket handshake arrives: headers and the peer's address. */
function handshake(headers: Record<string, string>, remoteAddress = '127.0.0.1'): IncomingMessage {
  return { headers, socket: { remoteAddress }, url: '/socket.io/?EIO=4', method: 'GET' } as never;
}

const byHost = createTenantResolver({ byHost: { 'acme.example': 'acme' } });

describe('tenants of requests Express never saw (WebSocket handshakes)', () => {
  it('resolves by the Host header, port ignored', async () => {
    const identifier = new TenantIdentifier(byHost, 404, () => express().request);
    expect(await identifier.identify(handshake({ host: 'ACME.example:8443' }))).toBe('acme');
  });

  it("believes X-Forwarded-Host only when the app's trust proxy trusts the sender", async () => {
    const forwarded = { host: 'app-internal:3000', 'x-forwarded-host': 'acme.example' };
    const untrusting = new TenantIdentifier(byHost, 404, () => express().request);
    await expect(untrusting.identify(handshake(forwarded))).rejects.toThrow('Unknown tenant');

    const app = express();
    app.set('trust proxy', 'loopback');
    const trusting = new TenantIdentifier(byHost, 404, () => app.request);
    expect(await trusting.identify(handshake(forwarded, '127.0.0.1'))).toBe('acme');
    await expect(trusting.identify(handshake(forwarded, '203.0.113.9'))).rejects.toThrow(
      'Unknown tenant',
    );
  });

  it('reads headers for byHeader, and gives a function resolver the Express getters', async () => {
    const byHeader = new TenantIdentifier(
      createTenantResolver({ byHeader: 'x-tenant' }),
      404,
      () => express().request,
    );
    expect(await byHeader.identify(handshake({ host: 'x', 'x-tenant': 'Globex' }))).toBe('globex');

    const seen: unknown[] = [];
    const custom = new TenantIdentifier(
      (req) => {
        seen.push([req.hostname, req.get('host'), req.ip, req.protocol]);
        return 'acme';
      },
      404,
      () => express().request,
    );
    await custom.identify(handshake({ host: 'acme.example:3000' }));
    expect(seen).toEqual([['acme.example', 'acme.example:3000', '127.0.0.1', 'http']]);
  });

  it('without an Express app, only the Host header names the host', async () => {
    const identifier = new TenantIdentifier(byHost, 404);
    expect(await identifier.identify(handshake({ host: 'acme.example' }))).toBe('acme');
    const forwarded = { host: 'internal', 'x-forwarded-host': 'acme.example' };
    await expect(identifier.identify(handshake(forwarded))).rejects.toThrow('Unknown tenant');
  });

  it('answers an unknown host with the configured status', async () => {
    const identifier = new TenantIdentifier(byHost, 421, () => express().request);
    await expect(identifier.identify(handshake({ host: 'other.example' }))).rejects.toMatchObject({
      status: 421,
    });
  });
});
