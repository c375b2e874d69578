/**
 * The signed-in principal's credentials: in this module's memory only, so a reload forgets them, unless
 * the user opted into sessionStorage (this tab only, gone when it closes). They are never sent to the
 * server: the SDK clients sign each request with them (SigV4) in the page.
 */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Session {
  credentials: Credentials;
  region: string;
  /** From STS GetCallerIdentity at sign-in. */
  arn: string;
  account: string;
  remember: boolean;
}

const STORAGE_KEY = 'trent-console-session';
let current: Session | undefined;

export function restoreSession(): Session | undefined {
  if (current) return current;
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return undefined;
  try {
    current = JSON.parse(stored) as Session;
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
  }
  return current;
}

export function startSession(s: Session): void {
  current = s;
  if (s.remember) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function endSession(): void {
  current = undefined;
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * Calls `onIdle` once no key press, pointer or scroll has happened for `seconds`. Returns the stop function.
 */
export function watchIdle(seconds: number, onIdle: () => void): () => void {
  let timer = window.setTimeout(onIdle, seconds * 1000);
  const reset = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(onIdle, seconds * 1000);
  };
  const events = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;
  for (const e of events) window.addEventListener(e, reset, { passive: true });
  return () => {
    window.clearTimeout(timer);
    for (const e of events) window.removeEventListener(e, reset);
  };
}
