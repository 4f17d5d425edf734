// watchMemberResumable (compiled to dist/ by tsc first), against a QueryService client
// whose WatchMember streams follow a script: opened or not, the messages, how each ends.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

import { WatchMemberResponseSchema, watchMemberResumable } from "../dist/src/index.js";

const message = (cursor) => create(WatchMemberResponseSchema, { cursor, kind: { case: "change", value: { version: 1n } } });

/**
 * A client whose n-th WatchMember call plays streams[n]: { open: whether headers arrive,
 * messages: cursors to send, error: how it ends (undefined: the server ends it) }.
 * `requests` records each call's request.
 */
function scripted(streams) {
  const requests = [];
  return {
    requests,
    watchMember(request, options) {
      const script = streams[requests.length] ?? { open: false, error: new ConnectError("no more streams", Code.Unavailable) };
      requests.push(request);
      return (async function* () {
        if (options.signal?.aborted) throw new ConnectError("aborted", Code.Canceled);
        if (script.open) options.onHeader?.(new Headers());
        for (const cursor of script.messages ?? []) yield message(cursor);
        if (script.error) throw script.error;
      })();
    },
  };
}

test("reconnects after a break, resumes from the last cursor, and reports each step", async () => {
  const client = scripted([
    { open: true, messages: ["c1", "c2"], error: new ConnectError("reset", Code.Unavailable) },
    { open: false, error: new ConnectError("refused", Code.Unavailable) },
    { open: true, messages: ["c3"] },
  ]);
  const stop = new AbortController();
  const seen = [];
  for await (const m of watchMemberResumable(client, "u1", {
    signal: stop.signal,
    initialBackoffMs: 1,
    maxBackoffMs: 2,
    onConnecting: (attempt) => seen.push(`connecting ${attempt}`),
    onConnect: () => seen.push("connect"),
    onDisconnect: (error, _ms, retry) => seen.push(`down ${retry.attempt} ${error.code === Code.Unavailable ? "Unavailable" : error.code}`),
  })) {
    seen.push(m.cursor);
    if (m.cursor === "c3") stop.abort();
  }
  assert.deepEqual(seen, ["connecting 0", "connect", "c1", "c2", "down 1 Unavailable", "connecting 1", "down 2 Unavailable", "connecting 2", "connect", "c3"]);
  assert.deepEqual(client.requests.map((r) => r.cursor), ["", "c2", "c2"]);
  assert.deepEqual(client.requests.map((r) => r.userId), ["u1", "u1", "u1"]);
});

test("the server ending the stream is a break like any other", async () => {
  const client = scripted([{ open: true, messages: ["c1"] }, { open: true, messages: ["c2"] }]);
  const stop = new AbortController();
  const errors = [];
  for await (const m of watchMemberResumable(client, "u1", {
    signal: stop.signal,
    initialBackoffMs: 1,
    onDisconnect: (error) => errors.push(`${Code[error.code]}: ${error.rawMessage}`),
  })) {
    if (m.cursor === "c2") stop.abort();
  }
  assert.deepEqual(errors, ["Unavailable: the server ended the stream"]);
});

test("retry.now() starts the next attempt without waiting out the backoff", async () => {
  const client = scripted([{ open: false, error: new ConnectError("refused", Code.Unavailable) }, { open: true, messages: ["c1"] }]);
  const stop = new AbortController();
  const waits = [];
  const started = Date.now();
  for await (const m of watchMemberResumable(client, "u1", {
    signal: stop.signal,
    initialBackoffMs: 600_000,
    maxBackoffMs: 600_000,
    onDisconnect: (_error, ms, retry) => {
      waits.push(ms);
      retry.now();
      retry.now(); // a second call changes nothing
    },
  })) {
    if (m.cursor === "c1") stop.abort();
  }
  assert.equal(waits.length, 1);
  assert.ok(waits[0] >= 480_000, `the backoff was ${waits[0]} ms`);
  assert.ok(Date.now() - started < 60_000, "the watch waited out the backoff");
});

test("a refusal no retry can fix ends the watch with its error", async () => {
  for (const code of [Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument]) {
    const client = scripted([{ open: false, error: new ConnectError("no", code) }]);
    const disconnects = [];
    await assert.rejects(
      (async () => {
        for await (const _ of watchMemberResumable(client, "u1", { onDisconnect: () => disconnects.push(1) }));
      })(),
      (e) => e instanceof ConnectError && e.code === code,
    );
    assert.equal(client.requests.length, 1, `${Code[code]}: tried again`);
    assert.deepEqual(disconnects, []);
  }
});

test("an abort during the wait ends the watch", async () => {
  const client = scripted([{ open: false, error: new ConnectError("refused", Code.Unavailable) }]);
  const stop = new AbortController();
  const messages = [];
  for await (const m of watchMemberResumable(client, "u1", {
    signal: stop.signal,
    initialBackoffMs: 600_000,
    onDisconnect: () => stop.abort(),
  }))
    messages.push(m);
  assert.deepEqual(messages, []);
  assert.equal(client.requests.length, 1);
});
