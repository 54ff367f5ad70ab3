import { InvalidArgumentError } from 'commander';
import { formatResumeCursor, resumeCursor } from './resume-cursor.js';

describe('the --resume cursor', () => {
  it.each([
    { node: '10.0.0.3:6379', cursor: '1536' },
    { node: 'redis-0.redis.svc.cluster.local:6379', cursor: '0' },
    { node: '::1:6379', cursor: '18446744073709551615' },
  ])('reads back what an interrupted run printed: $node', (position) => {
    expect(resumeCursor(formatResumeCursor(position))).toEqual(position);
  });

  it.each([
    '{"node":"10.0.0.3:6379","cursor":"1536"}',
    '1536',
    '@10.0.0.3:6379',
    '1536@',
    '-1@10.0.0.3:6379',
    '1536@10.0.0.3:6379; redis-cli flushall',
    '1536@host name:6379',
  ])('refuses %j as a usage error', (value) => {
    expect(() => resumeCursor(value)).toThrow(InvalidArgumentError);
  });
});
