// A form's idempotency keys: a fresh key for each new command; the very same command sent
// again after a transport error keeps its key, so that atone does it once.
import { newIdempotencyKey } from "@atone/sdk";
import { Code } from "@connectrpc/connect";

/** Errors after which the same command may be retried with the same key. */
export const TRANSIENT = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Canceled, Code.Aborted]);

export class CommandKeys {
  private pending: { request: string; key: string } | undefined;

  constructor(private readonly fresh: () => string = newIdempotencyKey) {}

  /** The key for `request` (the form's fields, as one string). */
  keyFor(request: string): string {
    if (!this.pending || this.pending.request !== request) this.pending = { request, key: this.fresh() };
    return this.pending.key;
  }

  /** The command was done: the next one gets a new key. */
  succeeded(): void {
    this.pending = undefined;
  }

  /** The command failed with `code`: only a transient error keeps the key for a retry. */
  failed(code: Code): void {
    if (!TRANSIENT.has(code)) this.pending = undefined;
  }
}
