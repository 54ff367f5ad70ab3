/**
 * How the page words a session's times in the reader's time zone: "just now", "3 min ago",
 * "today at 14:42", "tomorrow at 14:42", "Wed 9 Dec at 14:42". One self-contained function (no
 * imports, no names from outside it): the page's script embeds its source, so the browser runs
 * the very code the unit tests check.
 */
export function sessionTimeText(
  kind: 'ago' | 'at',
  at: number,
  now: number,
  locale: string,
  timeZone?: string,
): string {
  if (kind === 'ago') {
    const seconds = Math.round((now - at) / 1000);
    if (seconds < 45) return 'just now';
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
    const minutes = Math.round(seconds / 60);
    if (minutes < 45) return relative.format(-minutes, 'minute');
    const hours = Math.round(minutes / 60);
    if (hours < 22) return relative.format(-hours, 'hour');
    return relative.format(-Math.max(1, Math.round(hours / 24)), 'day');
  }
  const calendar = (ms: number) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    }).formatToParts(ms);
    const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    return { year: part('year'), day: Date.UTC(part('year'), part('month') - 1, part('day')) };
  };
  const clock = new Intl.DateTimeFormat(locale, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  const [then, today] = [calendar(at), calendar(now)];
  const days = Math.round((then.day - today.day) / 86_400_000);
  if (Math.abs(days) <= 1) {
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    return `${relative.format(days, 'day')} at ${clock}`;
  }
  const date = new Intl.DateTimeFormat(locale, {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: then.year === today.year ? undefined : 'numeric',
  }).format(at);
  return `${date} at ${clock}`;
}
