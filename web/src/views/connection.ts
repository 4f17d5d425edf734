// The connection status (top bar) and, while disconnected, the banner counting down to
// the next attempt.
import { Code } from "@connectrpc/connect";
import { $, bi } from "../dom.js";
import type { ConnStatus, Part, PageState } from "../state.js";
import type { Store } from "../store.js";

let countdown: number | undefined;

export function mountConnection(store: Store<PageState, Part>): void {
  store.on(["connection"], (s) => renderConnection(s.connection));
}

function renderConnection(s: ConnStatus | undefined): void {
  const el = $("conn-status");
  const text = el.querySelector(".conn-text")!;
  const banner = $("disconnected-banner");
  window.clearInterval(countdown);
  countdown = undefined;
  el.dataset.state = s?.state ?? "idle";
  if (s?.state === "down") {
    el.dataset.attempt = String(s.attempt);
    el.dataset.retryAt = String(s.retryAt);
  } else {
    delete el.dataset.attempt;
    delete el.dataset.retryAt;
  }
  text.replaceChildren();
  switch (s?.state) {
    case undefined:
      text.append(bi("未接続", "Not connected"));
      banner.hidden = true;
      break;
    case "connecting":
      text.append(bi("接続中…", "Connecting…"));
      break;
    case "live":
      text.append(bi("ライブ", "Live"));
      banner.hidden = true;
      break;
    case "down": {
      text.append(bi("切断", "Disconnected"));
      banner.hidden = false;
      const tick = () => {
        const left = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        $("reconnect-detail").textContent = `再接続 ${s.attempt} 回目まで ${left} 秒 · retry #${s.attempt} in ${left}s · ${s.error}`;
      };
      tick();
      countdown = window.setInterval(tick, 500);
      break;
    }
    case "failed":
      // A refusal of the credential is said by the sign-in or the permission message.
      if (s.code === Code.Unauthenticated || s.code === Code.PermissionDenied) {
        text.append(bi("拒否", "Refused"));
        banner.hidden = true;
        break;
      }
      text.append(bi("エラー", "Error"));
      banner.hidden = false;
      $("reconnect-detail").textContent = `監視できません · cannot watch: ${s.error}`;
      break;
  }
}
