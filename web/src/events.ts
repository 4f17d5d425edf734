// The 履歴 / Events tab: the member's event log as the event store keeps it
// (QueryService/ListMemberEvents), read in pages and extended as the member's version grows.
import { query } from "./api.js";
import { h } from "./dom.js";
import { EVENT_LABEL, shortId, timestamp } from "./format.js";
import type { StoredEvent } from "./gen/atone/v1/query_pb.js";

const PAGE = 200;

/** One member's event log, as far as it has been read. */
export class EventLog {
  readonly userId: string;
  readonly events: StoredEvent[] = [];
  private loading: Promise<void> | undefined;
  /** The error of the last read, if it failed. */
  error = "";

  constructor(userId: string) {
    this.userId = userId;
  }

  /** The version of the last event read (0 before the first). */
  get last(): bigint {
    return this.events.at(-1)?.version ?? 0n;
  }

  /**
   * Reads the events after the last one read, page after page, until the log is read up
   * to `version` (or to its end). One read at a time; a call while one runs waits for it.
   */
  async readUpTo(version: bigint): Promise<void> {
    while (this.loading) await this.loading;
    if (this.last >= version && this.events.length > 0) return;
    this.loading = this.readPages();
    try {
      await this.loading;
    } finally {
      this.loading = undefined;
    }
  }

  private async readPages(): Promise<void> {
    let after = this.last;
    try {
      for (;;) {
        const page = await query.listMemberEvents({ userId: this.userId, afterVersion: after, pageSize: PAGE });
        this.events.push(...page.events);
        this.error = "";
        if (page.nextAfterVersion === 0n) return;
        after = page.nextAfterVersion;
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }
}

/** The table rows of `log`, newest first. */
export function eventRows(log: EventLog): HTMLTableRowElement[] {
  return [...log.events].reverse().map((e) =>
    h(
      "tr",
      { "data-testid": "event-row", "data-version": e.version.toString(), "data-event-type": e.eventType },
      h("td", { class: "mono num" }, `v${e.version}`),
      h("td", {}, EVENT_LABEL[e.eventType] ?? "", " ", h("span", { class: "en" }, e.eventType)),
      h("td", { class: "sub" }, timestamp(e.occurredAt)),
      h("td", { class: "mono payload", "data-testid": "event-payload" }, JSON.stringify(e.payload ?? {})),
      h("td", { class: "mono sub", title: e.correlationId }, shortId(e.correlationId)),
    ),
  );
}
