// Test harness: a real atone server (ATONE_BIN) in a temp dir on a free port, and grpcurl
// to drive it from outside the page. Nothing is mocked. With enableAuth(), atone runs with
// authentication on (an admin API key in a keys file, member tokens signed with a random
// secret) and grpcurl calls carry the admin key.
import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ATONE_BIN = process.env.ATONE_BIN;
export const GRPCURL = process.env.GRPCURL ?? "grpcurl";
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** A file the driving script reads to kill what is left if this process dies. */
const PID_FILE = process.env.ATONE_WEB_PIDFILE;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function recordPid(pid) {
  if (PID_FILE && pid) appendFileSync(PID_FILE, `${pid}\n`);
}

/** One atone server process; start() again after stop() reuses the port and database. */
export class Atone {
  constructor(port, dir = mkdtempSync(join(tmpdir(), "atone-web-"))) {
    if (!ATONE_BIN) throw new Error("ATONE_BIN is not set (path of a built atone binary)");
    this.port = port;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.addr = `127.0.0.1:${port}`;
    this.proc = undefined;
    this.starts = 0;
    /** Flags every start() passes (authentication), before its own. */
    this.authArgs = [];
    /** The admin API key (`web-admin.<secret>`) once enableAuth() made it. */
    this.adminKey = undefined;
    this.tokenSecret = undefined;
    /** The subcommand: `serve` (all three services) or one role, e.g. `query`. */
    this.role = "serve";
  }

  /**
   * Authentication on for every start from now: `atone api-key --id web-admin --scopes
   * admin --file <dir>/keys.json` makes the keys file and prints the admin credential;
   * member tokens are signed with a random 64-character secret.
   */
  async enableAuth() {
    const keys = join(this.dir, "keys.json");
    const credential = await new Promise((resolve, reject) => {
      const child = execFile(
        ATONE_BIN,
        ["api-key", "--id", "web-admin", "--scopes", "admin", "--file", keys],
        { timeout: 15000 },
        (err, stdout, stderr) => (err ? reject(new Error(`atone api-key failed: ${stderr || err.message}`)) : resolve(stdout.trim())),
      );
      recordPid(child.pid);
    });
    if (!/^web-admin\.[0-9a-f]{64}$/.test(credential)) throw new Error(`atone api-key printed ${JSON.stringify(credential)}, not web-admin.<64 hex>`);
    this.adminKey = credential;
    this.tokenSecret = randomBytes(32).toString("hex");
    this.authArgs = ["--api-keys", keys, "--token-secret", this.tokenSecret];
  }

  /**
   * Starts atone; extraArgs go after `serve` (or the role) (e.g. --change-feed-retention 1s, or
   * --clock-offset 32d to run its clock ahead).
   */
  async start(extraArgs = [], timeoutMs = 20000) {
    this.starts += 1;
    const args = [
      this.role,
      "--listen",
      this.addr,
      "--database-url",
      `sqlite://${join(this.dir, "atone.db")}?mode=rwc`,
      ...this.authArgs,
      ...extraArgs,
    ];
    const logPath = join(this.dir, `${this.role === "serve" ? "atone" : this.role}-${this.starts}.log`);
    const shown = args.map((a) => (a === this.tokenSecret ? "<token secret>" : a));
    appendFileSync(logPath, `# ${ATONE_BIN} ${shown.join(" ")}\n`);
    const log = openSync(logPath, "a");
    this.proc = spawn(ATONE_BIN, args, { stdio: ["ignore", log, log] });
    recordPid(this.proc.pid);
    const proc = this.proc;
    const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 50))]);
      if (early) throw new Error(`atone exited on start (${JSON.stringify(early)}); log in ${this.dir}`);
      try {
        const res = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`atone did not answer on ${this.url} within ${timeoutMs} ms`);
    }
  }

  /** SIGTERM (graceful), SIGKILL if it hangs; resolves when the process is gone. */
  async stop(timeoutMs = 10000) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    const result = await this.exited;
    clearTimeout(t);
    this.proc = undefined;
    return result;
  }

  kill() {
    try {
      this.proc?.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }

  /**
   * grpcurl's flags and environment for a call with `credential` (none: no authorization
   * metadata). The credential goes through the environment (-expand-headers), not argv.
   */
  grpcurlAuth(credential) {
    if (!credential) return { flags: [], env: process.env };
    return {
      flags: ["-expand-headers", "-H", "authorization: Bearer ${ATONE_TEST_CREDENTIAL}"],
      env: { ...process.env, ATONE_TEST_CREDENTIAL: credential },
    };
  }

  /**
   * Opens WatchMember with grpcurl for at most maxTime seconds and returns the messages it
   * got (grpcurl ends with DeadlineExceeded; that is expected here).
   */
  watchOnce(body, maxTime = 1, credential = this.adminKey) {
    const { flags, env } = this.grpcurlAuth(credential);
    return new Promise((resolve) => {
      const child = execFile(
        GRPCURL,
        ["-plaintext", ...flags, "-max-time", String(maxTime), "-d", "@", this.addr, "atone.v1.QueryService/WatchMember"],
        { timeout: (maxTime + 5) * 1000, env },
        (_err, stdout) => {
          const messages = [];
          // grpcurl prints one pretty JSON object per message.
          for (const chunk of stdout.split(/\n(?=\{)/)) {
            try {
              messages.push(JSON.parse(chunk));
            } catch {
              /* partial output */
            }
          }
          resolve(messages);
        },
      );
      recordPid(child.pid);
      child.stdin.end(JSON.stringify(body));
    });
  }

  /**
   * Calls one RPC with grpcurl (plaintext HTTP/2, reflection) as `credential` (the admin key
   * when authentication is on); returns the JSON reply. A refusal rejects with grpcurl's
   * output (`Code: PermissionDenied` …).
   */
  grpc(method, body, credential = this.adminKey) {
    const { flags, env } = this.grpcurlAuth(credential);
    return new Promise((resolve, reject) => {
      const child = execFile(
        GRPCURL,
        ["-plaintext", ...flags, "-max-time", "10", "-d", "@", this.addr, method],
        { timeout: 15000, env },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`grpcurl ${method} failed: ${stderr || err.message}`));
          else resolve(JSON.parse(stdout));
        },
      );
      recordPid(child.pid);
      child.stdin.end(JSON.stringify(body));
    });
  }

  /** A member token for userId from AuthService/IssueMemberToken (as the admin key). */
  async memberToken(userId, ttlSeconds = 0) {
    const reply = await this.grpc("atone.v1.AuthService/IssueMemberToken", { user_id: userId, ttl_seconds: ttlSeconds });
    if (!reply.token) throw new Error(`IssueMemberToken answered no token: ${JSON.stringify(reply)}`);
    return reply.token;
  }
}
