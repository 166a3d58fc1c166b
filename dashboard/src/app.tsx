// The app shell: checks the session, shows the login form when there is none, and otherwise the
// navigation, the theme toggle, logout and the page the URL names.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { ApiFailure, api, login, logout, readSession, setActingAccount, setCsrfToken, setUnauthorizedHandler, type Session } from './api.js';
import { navigate, useLocation } from './router.js';
import { applyTheme, initialTheme, type Theme } from './theme.js';
import { Link } from './ui.js';
import { OverviewPage } from './pages/overview.js';
import { MessagesPage } from './pages/messages.js';
import { MessagePage } from './pages/message.js';
import { SuppressionsPage } from './pages/suppressions.js';
import { KeysPage } from './pages/keys.js';
import { WebhooksPage } from './pages/webhooks.js';
import { QueuePage } from './pages/queue.js';
import { DomainsPage } from './pages/domains.js';
import { SmtpUsersPage } from './pages/smtp-users.js';
import { AccountsPage } from './pages/accounts.js';

interface Section { path: string; label: string; page: ComponentType<{ session: Session }>; adminOnly?: boolean }

const SECTIONS: Section[] = [
  { path: '/', label: 'Overview', page: OverviewPage },
  { path: '/messages', label: 'Messages', page: MessagesPage },
  { path: '/queue', label: 'Queue', page: QueuePage },
  { path: '/suppressions', label: 'Suppressions', page: SuppressionsPage },
  { path: '/domains', label: 'Domains', page: DomainsPage },
  { path: '/smtp-users', label: 'SMTP users', page: SmtpUsersPage },
  { path: '/keys', label: 'API keys', page: KeysPage },
  { path: '/webhooks', label: 'Webhooks', page: WebhooksPage },
  { path: '/accounts', label: 'Accounts', page: AccountsPage, },
];

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    readSession().then(start, () => setSession(null));
  }, []);
  const start = (s: Session) => { setCsrfToken(s.csrfToken); setSession(s); };
  if (session === undefined) return <main class="centered"><p class="muted">Loading…</p></main>;
  if (session === null) return <LoginPage onLogin={start} />;
  return <Shell session={session} onLogout={async () => { await logout().catch(() => {}); setCsrfToken(''); setActingAccount(null); setSession(null); navigate('/'); }} />;
}

function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(String(form.get('username') ?? ''), String(form.get('password') ?? '')));
    } catch (err) {
      setError(loginError(err as Error));
    } finally { setBusy(false); }
  };
  return (
    <main class="centered">
      <form class="card login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title"><span class="logo" aria-hidden="true">✉</span> Postlane</h1>
        <label>Username<input name="username" autocomplete="username" required autofocus /></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" required /></label>
        {error ? <p class="error" role="alert">{error}</p> : null}
        <button type="submit" class="primary" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}

function loginError(err: Error): string {
  if (err instanceof ApiFailure && err.status === 401) return 'Wrong username or password.';
  if (err instanceof ApiFailure && err.status === 429) return 'Too many failed attempts. Wait a moment and try again.';
  return err.message;
}

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const { path } = useLocation();
  const [theme, setTheme] = useState<Theme>(initialTheme());
  const [menuOpen, setMenuOpen] = useState(false);
  const [account, setAccount] = useState<string | null>(session.user.account);
  const sections = SECTIONS.filter((s) => !s.adminOnly || session.user.role === 'admin');
  const current = path.startsWith('/messages/') ? null : sections.find((s) => s.path === path);
  const toggleTheme = () => { const next = theme === 'dark' ? 'light' : 'dark'; applyTheme(next, true); setTheme(next); };
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => { document.title = `${current?.label ?? 'Message'} · Postlane`; }, [current]);
  const Page = current?.page;
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
        <span class="brand"><span class="logo" aria-hidden="true">✉</span> Postlane</span>
        <span class="who">{session.user.username}{session.user.account ? ` · ${session.user.account}` : ' (admin)'}</span>
        {session.user.role === 'admin' ? <AccountPicker value={account} onChange={setAccount} /> : null}
        <button type="button" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>{theme === 'dark' ? '☀' : '☾'}</button>
        <button type="button" onClick={onLogout}>Log out</button>
      </header>
      <nav id="nav" class={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
        <ul>
          {sections.map((s) => (
            <li key={s.path}>
              <Link href={s.path} current={s.path === path || (s.path === '/messages' && path.startsWith('/messages/'))}>{s.label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} key={account ?? ''}>
        {path.startsWith('/messages/') ? <MessagePage id={decodeURIComponent(path.slice('/messages/'.length))} />
          : Page ? <Page session={session} /> : <NotFound />}
      </main>
    </div>
  );
}

const ACCOUNT_KEY = 'postlane.account';

/** An admin acts for one account at a time ('default' until picked); kept for this browser tab. */
function AccountPicker({ value, onChange }: { value: string | null; onChange: (a: string) => void }) {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    const saved = sessionStorage.getItem(ACCOUNT_KEY);
    api.get<{ data: { name: string }[] }>('/v1/accounts').then((r) => {
      const list = r.data.map((a) => a.name);
      setNames(list);
      pick(saved && list.includes(saved) ? saved : list.includes('default') ? 'default' : list[0] ?? 'default');
    }, () => setNames([]));
  }, []);
  const pick = (name: string) => { setActingAccount(name); sessionStorage.setItem(ACCOUNT_KEY, name); onChange(name); };
  if (names.length < 2) return null;
  return (
    <label class="inline account-picker">Account
      <select value={value ?? 'default'} onChange={(e) => pick((e.currentTarget as HTMLSelectElement).value)}>
        {names.map((n) => <option key={n} value={n}>{n}</option>)}
      </select>
    </label>
  );
}

function NotFound() {
  return <section><h1>Not found</h1><p>No page here. <Link href="/">Back to the overview</Link>.</p></section>;
}
