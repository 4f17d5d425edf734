// The credential the page sends: a member token (read-only, one member) or an API key. It
// comes from the URL fragment (`#token=…`, removed from the address bar as soon as it is
// read) or from the page's credential field, and is kept in sessionStorage only (this tab,
// until it is closed or signed out), never in localStorage, a cookie or the URL.

const STORAGE_KEY = "atone.credential";

let credential: string | undefined;

/**
 * The token in a URL fragment (`#token=…`, among other parameters): undefined when there
 * is none, "" when it is empty.
 */
export function tokenInHash(hash: string): string | undefined {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token")?.trim();
}

/**
 * Loads the credential: from `#token=<credential>` if the address has one (then it is
 * stored and removed from the address bar, so it stays out of history, bookmarks and
 * screenshots), else the one this tab stored. Returns it.
 */
export function loadCredential(): string | undefined {
  const fromUrl = tokenInHash(location.hash);
  if (fromUrl !== undefined) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}`);
    if (fromUrl) setCredential(fromUrl);
    else credential = readStored();
  } else {
    credential = readStored();
  }
  return credential;
}

/** Uses `value` from now on (and keeps it for a reload of this tab). */
export function setCredential(value: string): void {
  credential = value.trim() || undefined;
  try {
    if (credential) sessionStorage.setItem(STORAGE_KEY, credential);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage unavailable: the credential lives in memory until the tab is reloaded */
  }
}

/** Signs out: forgets the credential. */
export function clearCredential(): void {
  setCredential("");
}

/** The credential in use, if any (read at each call). */
export function currentCredential(): string | undefined {
  return credential;
}

function readStored(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || undefined;
  } catch {
    return undefined;
  }
}
