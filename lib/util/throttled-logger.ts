import { Logger } from '@nestjs/common';

/**
 * A logger that says each message at most once per interval: what a failing store or a client
 * replaying a bad cookie triggers on every request would otherwise flood the log. Messages are
 * fixed texts (never ids or data), so each is counted on its own.
 */
export class ThrottledLogger {
  private readonly logger: Logger;
  private readonly lastSaid = new Map<string, number>();

  constructor(
    context: string,
    private readonly intervalMs: number,
  ) {
    this.logger = new Logger(context);
  }

  warn(message: string): void {
    if (this.due(message)) this.logger.warn(message);
  }

  error(message: string): void {
    if (this.due(message)) this.logger.error(message);
  }

  private due(message: string): boolean {
    const now = Date.now();
    if (now - (this.lastSaid.get(message) ?? -Infinity) < this.intervalMs) return false;
    this.lastSaid.set(message, now);
    return true;
  }
}
