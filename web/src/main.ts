// atone's member page: credit, purchases and bills of one member, live over gRPC-Web.
// With authentication on, it shows what its credential allows: a member token its member,
// read only; an API key the forms its scopes allow (AuthService/WhoAmI says which).
//
// One state object (state.ts) in a store (store.ts); each view (views/) draws its part of
// it, and only when an update changed that part.
import "./app.css";
import { query } from "./api.js";
import { clearCredential, currentCredential, loadCredential, setCredential } from "./credential.js";
import { $ } from "./dom.js";
import { EventLog } from "./eventlog.js";
import { startWatch } from "./live.js";
import { Session } from "./session.js";
import * as state from "./state.js";
import { Store } from "./store.js";
import { mountActivity } from "./views/activity.js";
import { mountAuth } from "./views/auth.js";
import { mountBills } from "./views/bills.js";
import { mountCommands } from "./views/commands.js";
import { mountConnection } from "./views/connection.js";
import { mountEvents } from "./views/events.js";
import { clearForms, mountChoices } from "./views/forms.js";
import { mountPurchases } from "./views/purchases.js";
import { mountScreen } from "./views/screen.js";
import { mountSummary } from "./views/summary.js";

/**
 * Whether CommandService answers at this address: the document says so (`atone query`
 * alone serves it with `elsewhere`, and then no form can work here).
 */
const commandsHere = document.querySelector('meta[name="atone-commands"]')?.getAttribute("content") !== "elsewhere";

loadCredential();
const store = new Store<state.PageState, state.Part>(state.initialState(commandsHere, currentCredential() !== undefined));
const session = new Session(store, (userId) => {
  openMember(userId, false);
  history.replaceState({ userId }, "", `/user/${encodeURIComponent(userId)}`);
});
let stopWatch: (() => void) | undefined;

mountScreen(store);
mountConnection(store);
mountAuth(store, {
  use(credential) {
    setCredential(credential);
    credentialChanged();
  },
  signOut() {
    clearCredential();
    credentialChanged();
  },
});
mountSummary(store);
mountPurchases(store);
mountBills(store);
mountActivity(store);
mountEvents(store);
mountChoices(store);
mountCommands(store);

// ---------------------------------------------------------------- choosing the member

function userFromPath(): string {
  const m = /^\/user\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return "";
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return "";
  }
}

/** Shows `userId` (none for ""), live; `push` adds it to the history. */
function openMember(userId: string, push: boolean): void {
  userId = userId.trim();
  stopWatch?.();
  stopWatch = undefined;
  clearForms();
  $<HTMLInputElement>("user-input").value = userId;
  if (push) {
    const path = userId ? `/user/${encodeURIComponent(userId)}` : "/";
    if (location.pathname !== path) history.pushState({ userId }, "", path);
  }
  store.update((s) => state.openMember(s, userId, userId ? new EventLog(query, userId) : undefined));
  const page = store.state.member;
  if (!page) return;
  stopWatch = startWatch(userId, {
    onMessage: (message) => {
      if (store.state.member === page) store.update((s) => state.applyMessage(s, message));
    },
    onStatus: (status) => {
      if (store.state.member === page) store.update((s) => state.setConnection(s, status));
    },
  });
}

$<HTMLFormElement>("member-form").addEventListener("submit", (e) => {
  e.preventDefault();
  openMember($<HTMLInputElement>("user-input").value, true);
});
window.addEventListener("popstate", () => openMember(userFromPath(), false));

// ---------------------------------------------------------------- the credential

/** A new credential (or none): ask who it is, and watch the member again with it. */
function credentialChanged(): void {
  const userId = store.state.member?.userId ?? userFromPath();
  store.update((s) => [...state.setCredentialHeld(s, currentCredential() !== undefined), ...state.hideAuthPanel(s)]);
  void session.refresh();
  openMember(userId, false);
}

// A `#token=` pasted into the address bar of an open page.
window.addEventListener("hashchange", () => {
  if (!/(^#|&)token=/.test(location.hash)) return;
  loadCredential();
  credentialChanged();
});

// ---------------------------------------------------------------- start

void session.refresh();
openMember(userFromPath(), false);
