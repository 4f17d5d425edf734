// One member's event log as the event store keeps it (QueryService/ListMemberEvents), read
// in pages and extended as the member's version grows.
import type { ListMemberEventsResponse, StoredEvent } from "@atone/sdk";

const PAGE = 200;

/** What the log reads with: QueryService's ListMemberEvents (the query client has it). */
export interface EventSource {
  listMemberEvents(request: { userId: string; afterVersion: bigint; pageSize: number }): Promise<ListMemberEventsResponse>;
}

export class EventLog {
  readonly events: StoredEvent[] = [];
  private loading: Promise<void> | undefined;
  /** The error of the last read, if it failed. */
  error = "";

  constructor(
    private readonly source: EventSource,
    readonly userId: string,
  ) {}

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

  /** The events, newest first. */
  newestFirst(): StoredEvent[] {
    return [...this.events].reverse();
  }

  private async readPages(): Promise<void> {
    let after = this.last;
    try {
      for (;;) {
        const page = await this.source.listMemberEvents({ userId: this.userId, afterVersion: after, pageSize: PAGE });
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
