import type { IncomingHttpHeaders } from 'node:http';
import { fastifyRequestView, type MiddieRequest } from './fastify-request-view.js';

/** A Node request as middie leaves it: Fastify's `hostname`, `ip` and `protocol` copied on. */
const middie = (
  headers: IncomingHttpHeaders,
  fields: Partial<Pick<MiddieRequest, 'hostname' | 'ip' | 'protocol'>> = {},
) =>
  ({
    headers,
    method: 'POST',
    originalUrl: '/login?next=%2F',
    hostname: 'acme.test',
    ip: '127.0.0.1',
    protocol: 'http',
    ...fields,
  }) as unknown as MiddieRequest;

describe('fastifyRequestView', () => {
  it('reads the host with its port from the Host header Fastify named', () => {
    const view = fastifyRequestView(middie({ host: 'acme.test:8080' }));
    expect(view.host).toBe('acme.test:8080');
    expect(view.hostname).toBe('acme.test');
  });

  it("takes the forwarded host Fastify took (trustProxy: X-Forwarded-Host's last entry)", () => {
    const view = fastifyRequestView(
      middie(
        { host: 'internal:3000', 'x-forwarded-host': 'evil.test, acme.test:8443' },
        { hostname: 'acme.test', protocol: 'https' },
      ),
    );
    expect(view.host).toBe('acme.test:8443');
    expect(view.protocol).toBe('https');
    expect(view.secure).toBe(true);
  });

  it('keeps the Host header when Fastify did not trust the forwarded host', () => {
    const view = fastifyRequestView(
      middie({ host: 'acme.test:3000', 'x-forwarded-host': 'evil.test' }),
    );
    expect(view.host).toBe('acme.test:3000');
    expect(view.secure).toBe(false);
  });

  it('reads an IPv6 host with its brackets and port', () => {
    const view = fastifyRequestView(middie({ host: '[::1]:3000' }, { hostname: '[::1]' }));
    expect(view.host).toBe('[::1]:3000');
  });

  it('has no host when Fastify found none', () => {
    expect(fastifyRequestView(middie({}, { hostname: '' })).host).toBeUndefined();
  });

  it("reads headers as Express's get(): case-insensitive, repeated ones joined", () => {
    const view = fastifyRequestView(middie({ 'x-tenant-id': 'acme', accept: ['a', 'b'] } as never));
    expect(view.get('X-Tenant-Id')).toBe('acme');
    expect(view.header('accept')).toBe('a, b');
    expect(view.url).toBe('/login?next=%2F');
    expect(view.ip).toBe('127.0.0.1');
    expect(view.method).toBe('POST');
  });
});
