// WatchMember over gRPC-Web, kept alive: on any break it shows the page as disconnected,
// waits (exponential backoff with jitter) and reconnects with the last cursor it saw, so
// the server sends exactly the changes that were missed (or a CURSOR_EXPIRED snapshot).
// A refusal no retry can fix (no or a bad credential, another member's, a bad request)
// ends the watch with its code, for the page to say what is needed.
import { Code, ConnectError } from "@connectrpc/connect";
import { query } from "./api.js";
import type { WatchMemberResponse } from "./gen/atone/v1/query_pb.js";

export type ConnStatus =
  | { state: "connecting"; attempt: number }
  | { state: "live" }
  | { state: "down"; error: string; attempt: number; retryAt: number }
  | { state: "failed"; error: string; code: Code };

export interface WatchHandlers {
  onMessage(message: WatchMemberResponse): void;
  onStatus(status: ConnStatus): void;
}

const INITIAL_BACKOFF_MS = 400;
const MAX_BACKOFF_MS = 4000;
/** Codes a retry cannot fix. */
const FATAL = new Set<Code>([Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated, Code.Unimplemented]);

export function describeError(err: unknown): string {
  const e = ConnectError.from(err);
  return `${Code[e.code] ?? e.code}: ${e.rawMessage}`;
}

/** Starts watching a member; returns a function that stops it. */
export function startWatch(userId: string, handlers: WatchHandlers): () => void {
  const stop = new AbortController();
  let wakeUp: (() => void) | undefined;
  const retryNow = () => wakeUp?.();
  window.addEventListener("online", retryNow);

  void (async () => {
    let cursor = "";
    let attempt = 0;
    while (!stop.signal.aborted) {
      let error: string;
      handlers.onStatus({ state: "connecting", attempt });
      try {
        const stream = query.watchMember(
          { userId, cursor },
          {
            signal: stop.signal,
            onHeader: () => {
              attempt = 0;
              handlers.onStatus({ state: "live" });
            },
          },
        );
        for await (const message of stream) {
          attempt = 0;
          if (message.cursor) cursor = message.cursor;
          handlers.onMessage(message);
        }
        error = "Unavailable: the server ended the stream";
      } catch (err) {
        if (stop.signal.aborted) return;
        error = describeError(err);
        const code = ConnectError.from(err).code;
        if (FATAL.has(code)) {
          handlers.onStatus({ state: "failed", error, code });
          return;
        }
      }
      const delay = Math.round(Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** attempt) * (0.8 + Math.random() * 0.4));
      attempt += 1;
      handlers.onStatus({ state: "down", error, attempt, retryAt: Date.now() + delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        wakeUp = done;
        stop.signal.addEventListener("abort", done, { once: true });
        function done() {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
      });
    }
  })();

  return () => {
    window.removeEventListener("online", retryNow);
    stop.abort();
  };
}
