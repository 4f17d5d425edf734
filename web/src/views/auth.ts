// Who the credential is (top bar), the credential panel (why one is asked for), the forms
// its scopes allow, and the controls that change it: paste, open/close, sign out.
import { $, bi, h } from "../dom.js";
import { formAccess, hideAuthPanel, showAuthPanel, type Part, type PageState } from "../state.js";
import type { Store } from "../store.js";

export interface CredentialActions {
  /** A credential was pasted. */
  use(credential: string): void;
  signOut(): void;
}

export function mountAuth(store: Store<PageState, Part>, actions: CredentialActions): void {
  store.on(["who"], renderWho);
  store.on(["who"], renderForms);
  store.on(["auth-panel"], renderPanel);

  $<HTMLFormElement>("credential-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("credential-input");
    const value = input.value.trim();
    input.value = "";
    if (value) actions.use(value);
  });
  $("credential-toggle").addEventListener("click", () => {
    if (store.state.authPanel) {
      store.update((s) => hideAuthPanel(s));
    } else {
      store.update((s) => showAuthPanel(s, "manual"));
      $<HTMLInputElement>("credential-input").focus();
    }
  });
  $("credential-close").addEventListener("click", () => store.update((s) => hideAuthPanel(s)));
  $("sign-out").addEventListener("click", () => actions.signOut());
}

function renderWho(state: PageState): void {
  const { identity } = state;
  const el = $("whoami");
  const text = $("whoami-text");
  el.dataset.state = state.who;
  el.dataset.kind = identity?.kind ?? "";
  el.dataset.id = identity?.id ?? "";
  el.title = state.whoDetail;
  text.replaceChildren();
  if (state.who === "checking") text.append(bi("確認中…", "Checking…"));
  else if (state.who === "unauthenticated") text.append(bi("未認証", "Not signed in"));
  else if (state.who === "error") text.append(bi("認証情報を確認できません", "Cannot check the credential"));
  else if (identity?.kind === "unrestricted") text.append(bi("認証なし", "Authentication off"));
  else if (identity?.kind === "member") text.append(bi("会員", "Member"), " ", h("strong", { class: "mono" }, identity.id));
  else if (identity?.kind === "api-key")
    text.append(
      bi("APIキー", "API key"),
      " ",
      h("strong", { class: "mono" }, identity.id),
      " ",
      h("span", { class: "en" }, `(${[...identity.scopes].join(", ")})`),
    );
  else text.append(identity?.kind ?? "?", " ", identity?.id ?? "");
  $("sign-out").hidden = !state.hasCredential;
}

/** Shows each form whose call the credential's scopes allow; a member token gets none. */
function renderForms(state: PageState): void {
  const panels = [...document.querySelectorAll<HTMLElement>("[data-needs]")];
  const access = formAccess(state, panels.map((p) => p.dataset.needs ?? ""));
  panels.forEach((panel, i) => (panel.hidden = !access.shown[i]));
  $("commands-elsewhere").hidden = !access.elsewhere;
  $("read-only").hidden = !access.readOnly;
}

/** The credential panel: why it is asked for (none, refused), or opened by hand. */
function renderPanel(state: PageState): void {
  const panel = $("auth-panel");
  panel.hidden = !state.authPanel;
  panel.dataset.reason = state.authPanel?.reason ?? "";
  const title = $("auth-title");
  const message = $("auth-message");
  switch (state.authPanel?.reason) {
    case "missing":
      title.replaceChildren(bi("認証が必要です", "Sign-in needed"));
      message.textContent = "会員トークンまたは APIキーを入力してください · This atone needs a credential: paste a member token or an API key.";
      break;
    case "refused":
      title.replaceChildren(bi("認証情報が受け付けられません", "Credential refused"));
      message.textContent = `期限切れか無効です。別の認証情報を入力してください · It is missing, expired or not valid; enter another one. (${state.authPanel.detail})`;
      break;
    case "manual":
      title.replaceChildren(bi("認証情報", "Credential"));
      message.textContent = "会員トークンまたは APIキー · A member token or an API key.";
      break;
  }
}
