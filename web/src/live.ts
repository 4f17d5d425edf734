// The member, live: the SDK's resumable WatchMember over gRPC-Web. On a break the page
// shows itself disconnected while the SDK waits (backoff with jitter) and resumes from the
// last cursor, so the server sends exactly the changes that were missed (or a
// CURSOR_EXPIRED snapshot); the browser coming back online ends the wait. A refusal no
// retry can fix (no or a bad credential, another member's, a bad request) ends the watch
// with its code, for the page to say what is needed.
import { watchMemberResumable, type WatchMemberResponse } from "@atone/sdk";
import { ConnectError } from "@connectrpc/connect";
import { query } from "./api.js";
import { describeError } from "./format.js";
import type { ConnStatus } from "./state.js";

export interface WatchHandlers {
  onMessage(message: WatchMemberResponse): void;
  onStatus(status: ConnStatus): void;
}

const INITIAL_BACKOFF_MS = 400;
const MAX_BACKOFF_MS = 4000;

/** Starts watching a member; returns a function that stops it. */
export function startWatch(userId: string, handlers: WatchHandlers): () => void {
  const stop = new AbortController();
  let retryNow: (() => void) | undefined;
  const online = () => retryNow?.();
  window.addEventListener("online", online);

  void (async () => {
    try {
      for await (const message of watchMemberResumable(query, userId, {
        signal: stop.signal,
        initialBackoffMs: INITIAL_BACKOFF_MS,
        maxBackoffMs: MAX_BACKOFF_MS,
        onConnecting: (attempt) => handlers.onStatus({ state: "connecting", attempt }),
        onConnect: () => handlers.onStatus({ state: "live" }),
        onDisconnect: (error, retryInMs, retry) => {
          retryNow = retry.now;
          handlers.onStatus({ state: "down", error: describeError(error), attempt: retry.attempt, retryAt: Date.now() + retryInMs });
        },
      })) {
        handlers.onMessage(message);
      }
    } catch (err) {
      if (!stop.signal.aborted) handlers.onStatus({ state: "failed", error: describeError(err), code: ConnectError.from(err).code });
    }
  })();

  return () => {
    window.removeEventListener("online", online);
    stop.abort();
  };
}
