// Who the credential is: AuthService/WhoAmI, asked on load and whenever the credential
// changes. Retries (with backoff) while atone cannot be reached; an atone without
// AuthService has no authentication (every form; the server decides each call).
import { Code, ConnectError } from "@connectrpc/connect";
import { auth } from "./api.js";
import { describeError } from "./format.js";
import { SCOPE_ADMIN, askForCredential, hideAuthPanel, setWho, type Identity, type Part, type PageState } from "./state.js";
import type { Store } from "./store.js";

const MAX_RETRY_MS = 4000;

export class Session {
  private run = 0;

  /** `onMember`: a member token's member, to open when no member is shown. */
  constructor(
    private readonly store: Store<PageState, Part>,
    private readonly onMember: (userId: string) => void,
  ) {}

  /** Asks atone who the credential is, then shows what it allows. */
  async refresh(): Promise<void> {
    const run = ++this.run;
    this.store.update((s) => setWho(s, "checking"));
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await auth.whoAmI({});
        if (run !== this.run) return;
        const identity: Identity = { kind: r.kind, id: r.id, scopes: new Set(r.scopes) };
        this.store.update((s) => [...setWho(s, "known", identity), ...hideAuthPanel(s, "refused")]);
        if (identity.kind === "member" && !this.store.state.member) this.onMember(identity.id);
        return;
      } catch (err) {
        if (run !== this.run) return;
        const code = ConnectError.from(err).code;
        if (code === Code.Unauthenticated) {
          this.store.update((s) => [...setWho(s, "unauthenticated", undefined, describeError(err)), ...askForCredential(s, describeError(err))]);
          return;
        }
        if (code === Code.Unimplemented) {
          this.store.update((s) => setWho(s, "known", { kind: "unrestricted", id: "", scopes: new Set([SCOPE_ADMIN]) }));
          return;
        }
        this.store.update((s) => setWho(s, "error", undefined, describeError(err)));
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_MS, 400 * 2 ** attempt)));
        if (run !== this.run) return;
      }
    }
  }
}
