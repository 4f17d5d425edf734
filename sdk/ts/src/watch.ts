import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { QueryService, WatchMemberResponse } from "./gen/atone/v1/query_pb.js";

export interface ResumableWatchOptions {
  /** Stops the watch (the generator returns). */
  signal?: AbortSignal;
  /** Resume after this cursor; empty (the default) starts with a snapshot. */
  cursor?: string;
  /** Hold the first message until the read model has this version. */
  minVersion?: bigint;
  /** First retry delay; doubles up to maxBackoffMs. Default 500 ms. */
  initialBackoffMs?: number;
  /** Default 5,000 ms. */
  maxBackoffMs?: number;
  /**
   * A stream is being opened: `attempt` is 0 for the first, then how many have failed in a
   * row since the last one that opened.
   */
  onConnecting?: (attempt: number) => void;
  /** The stream is open (its response headers arrived). */
  onConnect?: () => void;
  /**
   * The stream broke; the next attempt starts in retryInMs, or as soon as `retry.now()` is
   * called (e.g. when the network is back).
   */
  onDisconnect?: (error: ConnectError, retryInMs: number, retry: RetryWait) => void;
}

/** The wait before the next attempt, as `onDisconnect` is told of it. */
export interface RetryWait {
  /** Failed attempts in a row, this one included (1 after the first failure). */
  attempt: number;
  /** Ends the wait: the next attempt starts now. Does nothing once it has started. */
  now(): void;
}

/** Codes that a retry cannot fix: the watch gives up and throws. */
const FATAL = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.Unimplemented,
]);

/**
 * WatchMember that survives a broken stream or a server restart: it reconnects with
 * exponential backoff (with jitter) and passes the last cursor it saw, so the server sends
 * exactly the changes that were missed (or a snapshot with reason CURSOR_EXPIRED).
 * Yields every message, in order, across reconnections.
 */
export async function* watchMemberResumable(
  query: Client<typeof QueryService>,
  userId: string,
  options: ResumableWatchOptions = {},
): AsyncGenerator<WatchMemberResponse, void, undefined> {
  const { signal } = options;
  const initial = options.initialBackoffMs ?? 500;
  const max = options.maxBackoffMs ?? 5000;
  let cursor = options.cursor ?? "";
  let attempt = 0;
  while (!signal?.aborted) {
    let error: ConnectError;
    options.onConnecting?.(attempt);
    try {
      const stream = query.watchMember(
        { userId, cursor, minVersion: options.minVersion ?? 0n },
        {
          signal,
          onHeader: () => {
            attempt = 0;
            options.onConnect?.();
          },
        },
      );
      for await (const message of stream) {
        attempt = 0;
        if (message.cursor) cursor = message.cursor;
        yield message;
      }
      if (signal?.aborted) return;
      error = new ConnectError("the server ended the stream", Code.Unavailable);
    } catch (e) {
      if (signal?.aborted) return;
      error = ConnectError.from(e);
      if (FATAL.has(error.code)) throw error;
    }
    const delay = Math.round(Math.min(max, initial * 2 ** attempt) * (0.8 + Math.random() * 0.4));
    attempt += 1;
    const wait = sleep(delay, signal);
    options.onDisconnect?.(error, delay, { attempt, now: wait.end });
    await wait.ended;
  }
}

/** A wait of `ms` that `end()` or an abort of `signal` cuts short. */
function sleep(ms: number, signal?: AbortSignal): { ended: Promise<void>; end: () => void } {
  let end = () => {};
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    end = done;
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
  return { ended, end };
}
