/**
 * A webhook receiver: checks each delivery's Atone-Signature over the raw body with the
 * SDK's verifyWebhook, drops an event id it has seen already (deliveries are at least
 * once), prints the event as one JSON line, and answers 200; anything else gets 400 with
 * why. Run after `npx tsc`:
 *
 *   WEBHOOK_SECRET=... node dist/examples/receiver.js [port]   (default 8787)
 */
import { createServer } from "node:http";
import { SIGNATURE_HEADER, verifyWebhook, WebhookSignatureError } from "../src/node.js";

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error("WEBHOOK_SECRET is required");
  process.exit(2);
}
const port = Number(process.argv[2] ?? 8787);
const seen = new Set<string>();

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (c: Buffer) => chunks.push(c));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    try {
      verifyWebhook(body, request.headers[SIGNATURE_HEADER], secret);
    } catch (e) {
      response.writeHead(e instanceof WebhookSignatureError ? 400 : 500).end(String((e as Error).message));
      return;
    }
    const event = JSON.parse(body.toString("utf8")) as { event_id?: string };
    const id = event.event_id ?? "";
    if (!seen.has(id)) {
      seen.add(id);
      console.log(JSON.stringify(event));
    }
    response.writeHead(200).end("ok");
  });
}).listen(port, "127.0.0.1", () => console.error(`receiving on http://127.0.0.1:${port}`));
