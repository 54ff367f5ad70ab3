import type { ActiveSession } from 'nestjs-tenant-session';
import { deviceLabel } from './device-label.js';
import { escapeHtml as e } from './escape-html.js';
import { sessionTimeText } from './session-times.js';

export interface SessionPageView {
  tenant: string;
  /** Absent for an anonymous visitor. */
  user?: {
    name: string;
    admin: boolean;
    /** This request's session as the listing shows it (no part of its id is ever on the page). */
    current?: ActiveSession;
    expiresAt?: Date;
    /** The absolute deadline: the session ends then however active. */
    endsAt?: Date;
    count: number;
    /** The user's sessions, the current one first. */
    sessions: ActiveSession[];
  };
}

/**
 * The session panel. Server-rendered and self-contained: no external assets, inline CSS and
 * script allowed by a per-response nonce, every interpolated value escaped. The script only
 * calls the JSON routes and reloads, so what you see is always what the server says. A
 * logged-in page also keeps a socket.io connection (its client script is served by the app's
 * socket.io server, same origin, under the same nonce): when the server says the session ended
 * (`session:ended`), the page shows "signed out" at once, without a reload. Times are worded by
 * the script, in the reader's time zone ("signed in 3 min ago", "ends tomorrow at 14:42"); the
 * server writes them as UTC until it runs.
 */
export function renderSessionPage(view: SessionPageView, nonce: string): string {
  const { tenant, user } = view;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sessions · ${e(tenant)}</title>
<link rel="icon" href="data:,">
<style nonce="${e(nonce)}">${STYLE}</style>
</head>
<body>
<main>
<h1>nestjs-tenant-session <small>tenant <b id="tenant">${e(tenant)}</b></small></h1>
<p id="signed-out" class="banner" role="alert" hidden></p>
${panel(view)}
${user ? reauthSection() + sessionsSection(user.sessions) + passwordSection() + (user.admin ? adminSection() : '') : loginSection()}
<p id="status" role="status"></p>
</main>
${user ? `<script src="/socket.io/socket.io.min.js" nonce="${e(nonce)}"></script>\n` : ''}<script nonce="${e(nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}

function panel({ user }: SessionPageView): string {
  if (!user) {
    return `<section class="panel" id="session-panel">
<dl>
<dt>Signed in as</dt><dd id="user">nobody</dd>
<dt>Session</dt><dd id="session-id">none yet: logging in starts one</dd>
</dl>
</section>`;
  }
  const expires = user.expiresAt
    ? `<dd id="expires-in" data-expires-at="${e(user.expiresAt.toISOString())}">…</dd>`
    : `<dd id="expires-in">unknown</dd>`;
  return `<section class="panel" id="session-panel">
<dl>
<dt>Signed in as</dt><dd id="user">${e(user.name)}${user.admin ? ' <span class="tag">admin</span>' : ''}</dd>
<dt>This device</dt><dd id="this-device">${user.current ? e(deviceLabel(user.current)) : 'unknown'}</dd>
<dt>Expires in</dt>${expires}
<dt>Ends at the latest</dt><dd id="ends-at">${user.endsAt ? time(user.endsAt, 'at') : 'unknown'}</dd>
<dt>Counter</dt><dd id="count">${e(user.count)}</dd>
<dt>Live</dt><dd id="live">connecting…</dd>
</dl>
<div class="actions">
<button id="increment" data-post="/increment">Increment</button>
<button id="logout" class="secondary" data-post="/auth/logout">Log out</button>
</div>
</section>`;
}

function loginSection(): string {
  return `<section>
<h2>Log in</h2>
<form id="login-form" data-post="/auth/login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p class="hint">Demo users: <code>alice</code> / <code>alice-pass</code>, <code>bob</code> / <code>bob-pass</code>, <code>admin</code> / <code>admin-pass</code> (admin).</p>
</section>`;
}

function sessionsSection(sessions: ActiveSession[]): string {
  const items = sessions.map(
    (s) => `<li class="session${s.current ? ' current' : ''}" data-handle="${e(s.id)}">
<div class="summary"><span class="device" title="${e(s.userAgent ?? '')}">${e(deviceLabel(s))}</span> · <span class="ip">${e(s.ip ?? 'unknown address')}</span> · signed in ${time(s.createdAt, 'ago')} · last seen ${time(s.lastSeenAt, 'ago')} · ends ${time(s.absoluteExpiresAt ?? s.expiresAt, 'at')}</div>
${
  s.current
    ? '<span class="tag">this device</span>'
    : `<button class="secondary" data-delete="/sessions/${encodeURIComponent(s.id)}">Sign out</button>`
}
</li>`,
  );
  return `<section>
<h2>Active sessions (${sessions.length})</h2>
<ul id="sessions">${items.join('\n')}</ul>
<button id="revoke-others" data-post="/sessions/revoke-others"${sessions.length > 1 ? '' : ' disabled'}>Sign out other devices</button>
</section>`;
}

/** Shown when a sensitive action answers RECENT_LOGIN_REQUIRED; the action is retried after. */
function reauthSection(): string {
  return `<section id="reauth" hidden>
<h2>Confirm it's you</h2>
<form id="reauth-form">
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Confirm and continue</button>
</form>
</section>`;
}

function passwordSection(): string {
  return `<section>
<h2>Change password</h2>
<form id="password-form" data-post="/auth/password">
<label>Current <input name="currentPassword" type="password" autocomplete="current-password" required></label>
<label>New <input name="newPassword" type="password" autocomplete="new-password" minlength="8" required></label>
<button type="submit">Change and sign out other devices</button>
</form>
</section>`;
}

function adminSection(): string {
  return `<section>
<h2>Admin</h2>
<form id="admin-form" data-admin-revoke>
<label>User <input name="userId" required></label>
<button type="submit" class="danger">Sign out everywhere</button>
</form>
</section>`;
}

/** A time the script words (see session-times.ts): `ago` ("3 min ago") or `at` ("today at 14:42"). */
function time(date: Date, kind: 'ago' | 'at'): string {
  const iso = date.toISOString();
  return `<time datetime="${e(iso)}" data-kind="${kind}">${e(iso.slice(0, 16).replace('T', ' '))} UTC</time>`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:46rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.3rem}h1 small{font-weight:normal;color:#5b6475;margin-left:.5rem}
h2{font-size:1.05rem;margin:0 0 .6rem}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1rem 1.2rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:9rem 1fr;gap:.35rem 1rem;margin:0 0 .8rem}
dt{color:#5b6475}dd{margin:0}
code{background:#eef0f4;padding:0 .3rem;border-radius:4px}
.actions{display:flex;gap:.5rem}
button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #2f5bd3;background:#2f5bd3;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#2f5bd3}
button.danger{background:#c0392b;border-color:#c0392b}
button:disabled{opacity:.45;cursor:default}
form{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end}
label{display:flex;flex-direction:column;font-size:.85rem;color:#5b6475}
input{font:inherit;padding:.3rem .5rem;border:1px solid #c5cbd6;border-radius:6px}
ul{list-style:none;padding:0;margin:0 0 .8rem}
li.session{display:grid;grid-template-columns:1fr auto;gap:.1rem 1rem;padding:.55rem 0;border-top:1px solid #eef0f4}
li.session .summary{font-size:.9rem;color:#5b6475;overflow:hidden;text-overflow:ellipsis}
li.session .device{color:#1d2330;font-weight:600;display:inline-block;max-width:22rem;vertical-align:bottom;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
li.session.current{background:#f3f8f4}
li.session>button,li.session>.tag{grid-column:2;grid-row:1;align-self:center}
.tag{font-size:.75rem;background:#e3f4e8;color:#1e7a3c;border-radius:4px;padding:.1rem .45rem}
.hint{font-size:.85rem;color:#5b6475;margin:.8rem 0 0}
#status{color:#c0392b;min-height:1.4em}
.banner{background:#fdecea;border:1px solid #f5c2bd;color:#8a1c12;border-radius:8px;padding:.7rem 1rem;margin:0 0 1rem}
`;

const SCRIPT = `
const status = document.getElementById('status');
const reauth = document.getElementById('reauth');
let afterReauth = null;
async function send(method, path, body, onOk) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (method === 'POST') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  status.textContent = '';
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (res.ok && onOk) return onOk(data);
  // Step-up: the login is too old for this action; confirm the password, then retry it.
  if (res.status === 401 && data.code === 'RECENT_LOGIN_REQUIRED' && reauth) {
    afterReauth = () => send(method, path, body, onOk);
    reauth.hidden = false;
    reauth.querySelector('input').focus();
    status.textContent = 'Please confirm your password to continue.';
    return;
  }
  // Success, or a session that ended elsewhere (401): show the server's view of things.
  if (res.ok || (res.status === 401 && path !== '/auth/login')) return location.reload();
  status.textContent = data.message || 'Request failed (' + res.status + ')';
}
document.querySelectorAll('button[data-post]').forEach((b) =>
  b.addEventListener('click', () => send('POST', b.dataset.post)));
document.querySelectorAll('button[data-delete]').forEach((b) =>
  b.addEventListener('click', () => send('DELETE', b.dataset.delete)));
document.querySelectorAll('form[data-post]').forEach((f) =>
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    send('POST', f.dataset.post, Object.fromEntries(new FormData(f)));
  }));
document.getElementById('reauth-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  const { password } = Object.fromEntries(new FormData(event.target));
  send('POST', '/auth/reauthenticate', { password }, () => {
    reauth.hidden = true;
    event.target.reset();
    const retry = afterReauth;
    afterReauth = null;
    if (retry) retry();
  });
});
document.querySelectorAll('form[data-admin-revoke]').forEach((f) =>
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    const user = new FormData(f).get('userId');
    send('POST', '/admin/users/' + encodeURIComponent(user) + '/revoke', {}, (data) => {
      status.textContent = 'Signed out ' + data.revoked + ' session(s) of ' + user + '.';
    });
  }));
// Live sign-out: the server ends this page's socket with \`session:ended\` when the session is
// revoked (another device, an admin, a password change), logged out or expires.
const live = document.getElementById('live');
const ENDED = {
  revoked: 'This session was signed out from another device or by an administrator.',
  logout: 'This session was logged out.',
  expired: 'This session expired.',
  gone: 'This session ended.',
};
let sessionEnded = false;
function signedOut(reason) {
  sessionEnded = true;
  const banner = document.getElementById('signed-out');
  banner.textContent = 'Signed out. ' + (ENDED[reason] || '') + ' Reload the page to log in again.';
  banner.hidden = false;
  live.textContent = 'signed out';
  document.getElementById('user').textContent = 'nobody';
  document.querySelectorAll('main button, main input').forEach((el) => (el.disabled = true));
}
if (live && window.io) {
  const socket = io();
  socket.on('connect', () =>
    socket.emit('hello', {}, (me) => (live.textContent = 'connected as ' + me.user)));
  socket.on('session:ended', ({ reason }) => signedOut(reason));
  socket.on('disconnect', () => {
    if (live.textContent !== 'signed out') live.textContent = 'disconnected';
  });
  socket.on('connect_error', (error) => (live.textContent = 'unavailable: ' + error.message));
}
// English words and a 24-hour clock, as the rest of the page; the reader's own time zone.
const sessionTimeText = ${sessionTimeText.toString()};
document.querySelectorAll('time[data-kind]').forEach((t) => {
  t.textContent = sessionTimeText(t.dataset.kind, Date.parse(t.dateTime), Date.now(), 'en-GB');
});
const expires = document.getElementById('expires-in');
if (expires && expires.dataset.expiresAt) {
  const at = Date.parse(expires.dataset.expiresAt);
  const tick = () => {
    if (sessionEnded) return (expires.textContent = 'ended');
    const left = Math.floor((at - Date.now()) / 1000);
    if (left <= 0) return (expires.textContent = 'expired');
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    expires.textContent = (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
  };
  tick();
  setInterval(tick, 1000);
}
`;
