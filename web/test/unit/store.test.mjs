// store.ts: an update draws only the views of the parts it changed, each once, in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { store } = await load();

test("only the views of the changed parts are drawn, each once, in the order registered", () => {
  const s = new store.Store({ n: 0 });
  const drawn = [];
  s.on(["summary"], () => drawn.push("summary"));
  s.on(["purchases", "member"], () => drawn.push("purchases"));
  s.on(["bills", "member"], () => drawn.push("bills"));
  s.on(["events"], (state) => drawn.push(`events ${state.n}`));

  const parts = s.update((state) => {
    state.n += 1;
    return ["purchases", "summary", "purchases"];
  });
  assert.deepEqual([...parts], ["purchases", "summary"]);
  assert.deepEqual(drawn, ["summary", "purchases"]);

  drawn.length = 0;
  s.update(() => ["member", "bills"]);
  assert.deepEqual(drawn, ["purchases", "bills"], "a view of two changed parts is drawn once");

  drawn.length = 0;
  s.update(() => ["events"]);
  assert.deepEqual(drawn, ["events 1"], "a view sees the updated state");

  drawn.length = 0;
  s.update(() => []);
  assert.deepEqual(drawn, []);
});
