import { jest } from '@jest/globals';
import type { Request } from 'express';
import { isAllowedOrigin, isUnsafeMethod, requestOrigin } from './csrf-origin-check.js';

const OWN = 'https://acme.example.com';
const TRUSTED = new Set(['https://console.example.net']);
const allowed = (secFetchSite?: string, origin?: string) =>
  isAllowedOrigin({ secFetchSite, origin }, () => OWN, TRUSTED);

describe('isUnsafeMethod', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'get'])('%s is safe', (method) => {
    expect(isUnsafeMethod(method)).toBe(false);
  });
  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'])('%s is unsafe', (method) => {
    expect(isUnsafeMethod(method)).toBe(true);
  });
});

describe('isAllowedOrigin', () => {
  it('passes what the browser calls same-origin, whatever Origin says', () => {
    expect(allowed('same-origin')).toBe(true);
    expect(allowed('same-origin', OWN)).toBe(true);
  });

  it.each(['same-site', 'cross-site', 'none', 'same-origin, cross-site'])(
    'refuses Sec-Fetch-Site %s, even with the own origin in Origin',
    (site) => {
      expect(allowed(site)).toBe(false);
      expect(allowed(site, OWN)).toBe(false);
    },
  );

  it('passes a trusted origin whatever Sec-Fetch-Site says', () => {
    expect(allowed('cross-site', 'https://console.example.net')).toBe(true);
    expect(allowed(undefined, 'https://console.example.net')).toBe(true);
  });

  it('without Sec-Fetch-Site, passes only the own origin', () => {
    expect(allowed(undefined, OWN)).toBe(true);
    expect(allowed(undefined, 'https://evil.example.com')).toBe(false);
    expect(allowed(undefined, 'http://acme.example.com')).toBe(false);
    expect(allowed(undefined, 'https://acme.example.com:8443')).toBe(false);
  });

  it('refuses Origin: null even when the request has no usable origin of its own', () => {
    expect(allowed(undefined, 'null')).toBe(false);
    expect(isAllowedOrigin({ origin: 'null' }, () => undefined, TRUSTED)).toBe(false);
  });

  it('passes a request with neither header (not from a browser that sends them)', () => {
    expect(allowed()).toBe(true);
  });

  it('does not work out its own origin when the answer does not depend on it', () => {
    const own = jest.fn(() => OWN);
    isAllowedOrigin({ secFetchSite: 'cross-site', origin: OWN }, own, TRUSTED);
    isAllowedOrigin({}, own, TRUSTED);
    expect(own).not.toHaveBeenCalled();
  });
});

describe('requestOrigin', () => {
  const request = (protocol: string, host: string | undefined) => ({ protocol, host }) as Request;

  it('writes scheme and host as browsers write Origin', () => {
    expect(requestOrigin(request('http', 'acme.localhost:3000'))).toBe(
      'http://acme.localhost:3000',
    );
    expect(requestOrigin(request('https', 'Acme.Example.com:443'))).toBe(
      'https://acme.example.com',
    );
    expect(requestOrigin(request('http', '[::1]:8080'))).toBe('http://[::1]:8080');
  });

  it('is undefined for a request without a usable host', () => {
    expect(requestOrigin(request('http', undefined))).toBeUndefined();
    expect(requestOrigin(request('http', 'bad host/'))).toBeUndefined();
  });
});
