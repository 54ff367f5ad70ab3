import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import * as scripts from '../../lib/store/scripts.js';
import * as sessionScripts from '../../lib/store/session-scripts.js';

/** One command a client sent, as MONITOR reports it (commands run inside scripts are left out). */
export interface MonitoredCommand {
  /** Lower case: `eval`, `del`, `zrem`, ... */
  name: string;
  args: string[];
  /** The sending client's `host:port`. */
  source: string;
}

export type CommandPredicate = (command: MonitoredCommand) => boolean;

/** A script's first line, or its name for a digest; any other first argument as it is. */
function scriptName(arg: string): string {
  for (const [name, digest] of SCRIPT_DIGESTS) if (digest === arg) return `(${name})`;
  return arg.split('\\n', 1)[0];
}

/** The library's scripts by name (their first line is `-- tenant-session:<name>`), as digests. */
const SCRIPT_DIGESTS = new Map(
  [...Object.values(scripts), ...Object.values(sessionScripts)]
    .filter((text): text is string => typeof text === 'string' && text.startsWith('-- tenant-'))
    .map((text) => [
      /^-- tenant-session:([\w-]+)/.exec(text)![1],
      createHash('sha1').update(text).digest('hex'),
    ]),
);

/**
 * One of the library's scripts, sent whole (EVAL, recognised by its first line
 * `-- tenant-session:<name>`) or by digest (EVALSHA).
 */
export function script(name: string): CommandPredicate {
  const digest = SCRIPT_DIGESTS.get(name);
  if (!digest) throw new Error(`no script named ${name} in lib/store/*scripts.ts`);
  // MONITOR escapes the script's newlines as `\n`.
  return (command) =>
    (command.name === 'eval' &&
      (command.args[0] ?? '').startsWith(`-- tenant-session:${name}\\n`)) ||
    (command.name === 'evalsha' && command.args[0] === digest);
}

/** A plain command on a key starting with `keyPrefix` (a whole key is a prefix too). */
export function command(name: string, keyPrefix: string): CommandPredicate {
  return (command) =>
    command.name === name.toLowerCase() && (command.args[0] ?? '').startsWith(keyPrefix);
}

interface Trigger {
  predicate: CommandPredicate;
  remaining: number;
  action: (command: MonitoredCommand) => void;
  fired: (command: MonitoredCommand) => void;
  timer: NodeJS.Timeout;
}

const BARRIER = 'fault-barrier:';
const LOG_LIMIT = 1000;

/**
 * Watches every command a redis-server runs (MONITOR) and acts the moment a given one shows up,
 * e.g. freezes the server or kills an app process right after a step of an operation.
 *
 * MONITOR reports a command once it has run. The sender usually reads its reply before the test
 * reads MONITOR's line, so an app talking to the server directly may already have sent its next
 * step when the action lands; put a FaultProxy (fault-proxy.ts) between them to make it exact.
 */
export class CommandMonitor {
  private readonly triggers = new Set<Trigger>();
  private readonly log: MonitoredCommand[] = [];
  private readonly barriers = new Map<string, () => void>();
  private barrierCount = 0;
  private lastSeenAt = Date.now();

  private constructor(
    private readonly connection: Socket,
    private readonly control: Redis,
  ) {}

  /**
   * MONITOR is read from a plain socket, not an ioredis client: ioredis's own start-up
   * commands (ready check, INFO) could have their replies land among MONITOR's lines, which
   * broke its reply queue ("Command queue state error").
   */
  static async open(url: string): Promise<CommandMonitor> {
    const { hostname, port } = new URL(url);
    const connection = connect(Number(port), hostname);
    const control = new Redis(url);
    // A server stopped at the end of a suite is not an error worth reporting.
    control.on('error', () => undefined);
    const monitor = new CommandMonitor(connection, control);
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      let started = false;
      connection.once('error', reject);
      connection.setEncoding('utf8');
      connection.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\r\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (started) monitor.line(line);
          else if (line === '+OK') {
            started = true;
            connection.off('error', reject).on('error', () => undefined);
            resolve();
          } else reject(new Error(`MONITOR was refused: ${line}`));
        }
      });
      connection.write('MONITOR\r\n');
    });
    return monitor;
  }

  /**
   * Runs `action` synchronously when the `nth` command matching `predicate` is seen (counting
   * from now); resolves with that command once it did. Rejects when it is not seen within
   * `limitMs`, so a step that never runs fails the test by name.
   */
  when(
    predicate: CommandPredicate,
    action: (command: MonitoredCommand) => void,
    { nth = 1, limitMs = 10_000, label = 'the awaited command' } = {},
  ): Promise<MonitoredCommand> {
    return new Promise((resolve, reject) => {
      const trigger: Trigger = {
        predicate,
        remaining: nth,
        action,
        fired: (command) => {
          clearTimeout(trigger.timer);
          resolve(command);
        },
        timer: setTimeout(() => {
          this.triggers.delete(trigger);
          reject(new Error(`${label} was not seen within ${limitMs} ms; seen: ${this.commands()}`));
        }, limitMs),
      };
      this.triggers.add(trigger);
    });
  }

  /** Drops the triggers that have not fired (their promises then never settle). */
  disarm(): void {
    for (const trigger of this.triggers) clearTimeout(trigger.timer);
    this.triggers.clear();
  }

  /**
   * Resolves once this monitor has handled every command the server ran before now (an ECHO
   * sent now and seen here comes after them all), so a trigger they matched has fired. While
   * the server is frozen, that is once it runs again.
   */
  barrier(): Promise<void> {
    const token = `${BARRIER}${++this.barrierCount}`;
    return new Promise((resolve) => {
      this.barriers.set(token, resolve);
      // A server that went away releases everyone waiting: there is nothing left to order.
      this.control.echo(token).catch(() => {
        this.barriers.delete(token);
        resolve();
      });
    });
  }

  /**
   * Resolves once the server has run everything sent before now and then nothing for
   * `quietMs`: what was queued while it was frozen has run by then. Gives up after `limitMs`.
   */
  async quiet(quietMs = 150, limitMs = 5_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    await this.barrier();
    this.lastSeenAt = Date.now();
    while (Date.now() < deadline && Date.now() - this.lastSeenAt < quietMs) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Forgets the commands seen so far (see `commands`). */
  reset(): void {
    this.log.length = 0;
  }

  /** The commands seen since the last reset, as `name key` (a script as its first line). */
  commands(): string[] {
    return this.log.map(({ name, args }) => `${name} ${scriptName(args[0] ?? '')}`);
  }

  /** How many times each command was seen since the last reset (scripts' own calls left out). */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { name } of this.log) counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  }

  close(): void {
    this.disarm();
    this.connection.destroy();
    this.control.disconnect();
    for (const release of this.barriers.values()) release();
    this.barriers.clear();
  }

  /**
   * One MONITOR line: `+<time> [<db> <client address | lua>] "<name>" "<arg>" ...`, each argument
   * escaped by the server (a script's newlines stay `\\n`).
   */
  private line(line: string): void {
    const open = line.indexOf(' [');
    const close = line.indexOf('] "', open);
    if (!line.startsWith('+') || open < 0 || close < 0) return;
    const source = line.slice(open + 2, close).split(' ')[1] ?? '';
    if (source === 'lua') return;
    this.lastSeenAt = Date.now();
    const [name = '', ...args] = line
      .slice(close + 3, -1)
      .split('" "')
      .map((arg) => arg.replace(/\\"/g, '"'));
    const barrier = name.toLowerCase() === 'echo' && this.barriers.get(args[0]);
    if (barrier) {
      this.barriers.delete(args[0]);
      return barrier();
    }
    this.seen({ name: name.toLowerCase(), args, source });
  }

  private seen(command: MonitoredCommand): void {
    if (this.log.length < LOG_LIMIT) this.log.push(command);
    for (const trigger of this.triggers) {
      if (!trigger.predicate(command) || --trigger.remaining > 0) continue;
      this.triggers.delete(trigger);
      trigger.action(command);
      trigger.fired(command);
    }
  }
}
