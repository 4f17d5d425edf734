// The 明細 / 履歴 tabs, and in 履歴 the member's event log as the event store keeps it,
// newest first: read when the tab opens and read on as the member's version grows.
import { $, h } from "../dom.js";
import type { EventLog } from "../eventlog.js";
import { EVENT_LABEL, shortId, timestamp } from "../format.js";
import { setTab, type Part, type PageState, type Tab } from "../state.js";
import type { Store } from "../store.js";

export function mountEvents(store: Store<PageState, Part>): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('[role="tab"]')) {
    const tab: Tab = button.dataset.tab === "events" ? "events" : "overview";
    button.addEventListener("click", () => store.update((s) => setTab(s, tab)));
  }
  store.on(["tab"], renderTabs);
  store.on(["member", "events", "tab"], (s) => void readEvents(store, s));
}

function renderTabs(state: PageState): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('[role="tab"]')) {
    button.setAttribute("aria-selected", String(button.dataset.tab === state.tab));
  }
  $("overview-tab").hidden = state.tab !== "overview";
  $("events-tab").hidden = state.tab !== "events";
}

/** While the tab is open: reads the log up to the member's version, then shows it. */
async function readEvents(store: Store<PageState, Part>, state: PageState): Promise<void> {
  const m = state.member;
  if (!m || state.tab !== "events") return;
  const log = m.events;
  await log.readUpTo(m.view.version);
  if (store.state.member?.events === log) renderLog(log);
}

function renderLog(log: EventLog): void {
  $("event-count").textContent = String(log.events.length);
  $("events-empty").hidden = log.events.length > 0 || log.error !== "";
  $("event-rows").replaceChildren(
    ...log.newestFirst().map((e) =>
      h(
        "tr",
        { "data-testid": "event-row", "data-version": e.version.toString(), "data-event-type": e.eventType },
        h("td", { class: "mono num" }, `v${e.version}`),
        h("td", {}, EVENT_LABEL[e.eventType] ?? "", " ", h("span", { class: "en" }, e.eventType)),
        h("td", { class: "sub" }, timestamp(e.occurredAt)),
        h("td", { class: "mono payload", "data-testid": "event-payload" }, JSON.stringify(e.payload ?? {})),
        h("td", { class: "mono sub", title: e.correlationId }, shortId(e.correlationId)),
      ),
    ),
  );
  const error = $("events-error");
  error.hidden = log.error === "";
  error.textContent = log.error ? `読み込めません · cannot read the event log: ${log.error}` : "";
}
