// Test harness: a real atone server (ATONE_BIN) in a temp dir on a free port, and grpcurl
// to drive it from outside the page. Nothing is mocked.
import { spawn, execFile } from "node:child_process";
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
  }

  /**
   * Starts atone; extraArgs go after `serve` (e.g. --change-feed-retention 1s, or
   * --clock-offset 32d to run its clock ahead).
   */
  async start(extraArgs = [], timeoutMs = 20000) {
    this.starts += 1;
    const args = ["serve", "--listen", this.addr, "--database-url", `sqlite://${join(this.dir, "atone.db")}?mode=rwc`, ...extraArgs];
    const logPath = join(this.dir, `atone-${this.starts}.log`);
    appendFileSync(logPath, `# ${ATONE_BIN} ${args.join(" ")}\n`);
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
   * Opens WatchMember with grpcurl for at most maxTime seconds and returns the messages it
   * got (grpcurl ends with DeadlineExceeded; that is expected here).
   */
  watchOnce(body, maxTime = 1) {
    return new Promise((resolve) => {
      const child = execFile(
        GRPCURL,
        ["-plaintext", "-max-time", String(maxTime), "-d", "@", this.addr, "atone.v1.QueryService/WatchMember"],
        { timeout: (maxTime + 5) * 1000 },
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

  /** Calls one RPC with grpcurl (plaintext HTTP/2, reflection); returns the JSON reply. */
  grpc(method, body) {
    return new Promise((resolve, reject) => {
      const child = execFile(
        GRPCURL,
        ["-plaintext", "-max-time", "10", "-d", "@", this.addr, method],
        { timeout: 15000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`grpcurl ${method} failed: ${stderr || err.message}`));
          else resolve(JSON.parse(stdout));
        },
      );
      recordPid(child.pid);
      child.stdin.end(JSON.stringify(body));
    });
  }
}
