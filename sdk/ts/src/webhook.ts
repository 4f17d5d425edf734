/**
 * Webhook signatures, as atone writes and checks them: the `Atone-Signature` header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, with one `v1` per
 * secret while a secret is rotated. A receiver checks it over the raw body, before parsing
 * it, and drops a delivery whose timestamp is too far from now (a replay).
 *
 *   import { verifyWebhook } from "@atone/sdk/node";
 *   verifyWebhook(rawBody, request.headers["atone-signature"], process.env.WEBHOOK_SECRET!);
 *
 * Node only (node:crypto).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header that carries the signature (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = "atone-signature";
/** How far a signature's timestamp may be from now, in seconds, unless told otherwise. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** The most `v1` entries a header may carry. */
export const MAX_SIGNATURES = 8;

/** Why a delivery is not to be trusted. */
export class WebhookSignatureError extends Error {
  override name = "WebhookSignatureError";
}

export interface VerifyOptions {
  /** Seconds the timestamp may be from `now`; 300 unless given. */
  toleranceSeconds?: number;
  /** Now, in Unix seconds (for tests); the clock's unless given. */
  now?: number;
}

function bytes(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

function mac(secret: string, timestamp: number, body: Buffer): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
}

/** The `Atone-Signature` header for `body`, signed with `secret` at `timestamp`. */
export function signWebhook(body: string | Uint8Array, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, bytes(body)).toString("hex")}`;
}

/**
 * Checks `header` against the raw `body`: a timestamp within the tolerance and a `v1` that
 * one of `secrets` made. Returns the timestamp; throws `WebhookSignatureError` saying why
 * not. Comparisons are in constant time.
 */
export function verifyWebhook(
  body: string | Uint8Array,
  header: string | string[] | null | undefined,
  secrets: string | string[],
  options: VerifyOptions = {},
): number {
  const text = Array.isArray(header) ? header.join(",") : header;
  if (!text) throw new WebhookSignatureError("no Atone-Signature header");
  let timestamp: number | undefined;
  const v1: Buffer[] = [];
  for (const part of text.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === "t" && /^\d{1,15}$/.test(value)) timestamp = Number(value);
    if (key === "v1") {
      if (v1.length === MAX_SIGNATURES) throw new WebhookSignatureError(`the signature has more than ${MAX_SIGNATURES} v1 entries`);
      if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new WebhookSignatureError("v1 is not a hex SHA-256 MAC");
      v1.push(Buffer.from(value, "hex"));
    }
  }
  if (timestamp === undefined) throw new WebhookSignatureError("the signature has no t=<unix seconds>");
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookSignatureError(`the signature's timestamp is more than ${tolerance} s from now`);
  }
  if (v1.length === 0) throw new WebhookSignatureError("the signature has no v1 entry");
  const raw = bytes(body);
  let matched = false;
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    const tag = mac(secret, timestamp, raw);
    for (const given of v1) matched = timingSafeEqual(tag, given) || matched;
  }
  if (!matched) throw new WebhookSignatureError("the signature does not match the body");
  return timestamp;
}
