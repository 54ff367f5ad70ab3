/** HTTP for the benchmarks: single requests (log in, check) and autocannon load phases. */
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';

export interface HttpReply {
  status: number;
  body: string;
  setCookies: string[];
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 32 });

export function httpRequest(
  port: number,
  options: { method: string; path: string; headers?: Record<string, string>; body?: object },
): Promise<HttpReply> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent: keepAlive,
        method: options.method,
        path: options.path,
        headers: {
          ...options.headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookies: res.headers['set-cookie'] ?? [],
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${options.path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Logs `user` in through POST /login and returns the `name=value` cookie to send back. */
export async function logIn(
  port: number,
  user: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const reply = await httpRequest(port, {
    method: 'POST',
    path: '/login',
    headers,
    body: { user },
  });
  const cookie = reply.setCookies[0]?.split(';')[0];
  if (reply.status !== 201 || !cookie) {
    throw new Error(`login failed: ${reply.status} ${reply.body.slice(0, 200)}`);
  }
  return cookie;
}

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
}

/** One autocannon phase; every connection cycles through `requests` in order. */
export async function runLoad(
  port: number,
  requests: LoadRequest[],
  options: { connections: number; seconds: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: options.connections,
    duration: options.seconds,
    requests: requests.map((r) => ({
      method: r.method,
      path: r.path,
      headers:
        r.method === 'POST' ? { ...r.headers, 'content-type': 'application/json' } : r.headers,
      body: r.method === 'POST' ? '{}' : undefined,
    })),
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
