// The main area: the prompt to choose a member, the member, or the permission message
// (nothing while the page waits for a credential); and the document's title.
import { $ } from "../dom.js";
import { deniedMessage, type Part, type PageState } from "../state.js";
import type { Store } from "../store.js";

export function mountScreen(store: Store<PageState, Part>): void {
  store.on(["screen", "who"], renderScreen);
  store.on(["member"], renderTitle);
}

function renderScreen(state: PageState): void {
  $("empty-state").hidden = state.screen !== "empty";
  $("member").hidden = state.screen !== "member";
  $("denied").hidden = state.screen !== "denied";
  $("denied-detail").textContent = deniedMessage(state);
}

function renderTitle(state: PageState): void {
  document.title = state.member ? `${state.member.userId} — atone 会員ページ` : "atone — 会員ページ Member page";
}
