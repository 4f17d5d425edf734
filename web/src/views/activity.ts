// 最近の変更: the member's latest changes as they arrive, newest first, and a note when a
// CURSOR_EXPIRED snapshot replaced the state.
import { $, bi, h } from "../dom.js";
import { EVENT_LABEL, clock } from "../format.js";
import { cursorExpired, type Part, type PageState } from "../state.js";
import type { Store } from "../store.js";

export function mountActivity(store: Store<PageState, Part>): void {
  store.on(["member", "activity"], renderActivity);
}

function renderActivity(state: PageState): void {
  const m = state.member;
  if (!m) return;
  const expired = cursorExpired(m);
  $("activity-empty").hidden = m.activity.length > 0 || expired;
  $("activity").replaceChildren(
    ...(expired ? [h("li", { class: "note", "data-testid": "cursor-expired" }, bi("最新の状態を再取得しました", "Cursor expired: reloaded the current state"))] : []),
    ...m.activity.map((a) =>
      h(
        "li",
        { "data-testid": "activity-item", "data-event-type": a.eventType },
        h("span", { class: "v mono" }, `v${a.version}`),
        h("span", { class: "ev" }, EVENT_LABEL[a.eventType] ?? "", " ", h("span", { class: "en" }, a.eventType)),
        h("span", { class: "t sub" }, clock(a.at)),
      ),
    ),
  );
}
