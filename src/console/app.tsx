/**
 * The console's shell: sign-in, the navigation, hash routing (the hash holds resource names, never a
 * secret) and the idle sign-out.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { clientsFor, describeError, type Clients } from './api.ts';
import { endSession, restoreSession, startSession, watchIdle, type Session } from './session.ts';
import { Field, ErrorBox } from './ui.tsx';
import { KeysPage } from './pages/keys.tsx';
import { KeyDetailPage } from './pages/key-detail.tsx';
import { SecretsPage, SecretDetailPage } from './pages/secrets.tsx';
import { ParametersPage } from './pages/parameters.tsx';
import { AuditPage } from './pages/audit.tsx';
import { OperatorPage } from './pages/operator.tsx';

export interface ConsoleConfig {
  idleSeconds: number;
  region: string;
}

export interface PageProps {
  clients: Clients;
  session: Session;
}

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

const NAV: [string, string][] = [
  ['#/keys', 'Keys'],
  ['#/secrets', 'Secrets'],
  ['#/parameters', 'Parameters'],
  ['#/audit', 'Audit'],
  ['#/operator', 'Operator'],
];

function Page({ hash, props }: { hash: string; props: PageProps }) {
  const [, section, ...rest] = hash.replace(/^#/, '').split('/');
  const id = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  switch (section) {
    case 'secrets':
      return id ? <SecretDetailPage {...props} name={id} /> : <SecretsPage {...props} />;
    case 'parameters':
      return <ParametersPage {...props} name={id} />;
    case 'audit':
      return <AuditPage {...props} />;
    case 'operator':
      return <OperatorPage {...props} />;
    default:
      return id ? <KeyDetailPage {...props} keyId={id} /> : <KeysPage {...props} />;
  }
}

export function App({ config }: { config: ConsoleConfig }) {
  const [session, setSession] = useState<Session | undefined>(restoreSession());
  const [notice, setNotice] = useState<string | undefined>();
  const hash = useHash();
  const clients = useMemo(() => (session ? clientsFor(session.credentials, session.region) : undefined), [session]);

  const signOut = (why?: string) => {
    endSession();
    setSession(undefined);
    setNotice(why);
  };
  useEffect(() => {
    if (!session) return;
    return watchIdle(config.idleSeconds, () => signOut(`Signed out after ${config.idleSeconds} seconds without activity.`));
  }, [session]);

  if (!session || !clients) {
    return (
      <main id="main">
        <h1>Trent console</h1>
        {notice && <p role="status" class="notice">{notice}</p>}
        <SignIn config={config} onSignedIn={(s) => { setNotice(undefined); setSession(s); }} />
      </main>
    );
  }
  const current = NAV.find(([href]) => hash.startsWith(href))?.[0] ?? '#/keys';
  return (
    <>
      <header>
        <a class="skip" href="#main">Skip to content</a>
        <span class="brand">Trent</span>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <a key={href} href={href} aria-current={current === href ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <span class="who" data-testid="caller-arn">{session.arn}</span>
        <button type="button" onClick={() => signOut('Signed out.')}>Sign out</button>
      </header>
      <main id="main">
        <Page hash={hash} props={{ clients, session }} />
      </main>
    </>
  );
}

function SignIn({ config, onSignedIn }: { config: ConsoleConfig; onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim();
    const sessionToken = value('sessionToken');
    const credentials = { accessKeyId: value('accessKeyId'), secretAccessKey: value('secretAccessKey'), ...(sessionToken ? { sessionToken } : {}) };
    const region = value('region') || config.region;
    setBusy(true);
    setError(undefined);
    try {
      // Proves the key pair without sending the secret: the server verifies the signature only.
      const who = await clientsFor(credentials, region).sts.send(new GetCallerIdentityCommand({}));
      const s: Session = { credentials, region, arn: who.Arn ?? '', account: who.Account ?? '', remember: form.get('remember') === 'on' };
      startSession(s);
      onSignedIn(s);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="signin" onSubmit={submit} aria-label="Sign in">
      <h2>Sign in</h2>
      <p>Your secret access key stays in this page: it signs each request and is never sent.</p>
      <Field label="Access key ID"><input name="accessKeyId" required autocomplete="off" spellcheck={false} /></Field>
      <Field label="Secret access key"><input name="secretAccessKey" type="password" required autocomplete="off" /></Field>
      <Field label="Session token (temporary credentials only)"><input name="sessionToken" type="password" autocomplete="off" /></Field>
      <Field label="Region"><input name="region" defaultValue={config.region} autocomplete="off" /></Field>
      <label class="check"><input type="checkbox" name="remember" /> Keep me signed in in this tab (session storage)</label>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>Sign in</button>
    </form>
  );
}
