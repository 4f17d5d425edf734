// What the forms share: wiring one (its result, its error, its idempotency key), reading a
// field, and the lists they choose from (choices.ts), kept up with the member.
import { Code, ConnectError } from "@connectrpc/connect";
import { billablePromises, cancellableOrders, leftToPay, payableBills, type Choices } from "../choices.js";
import { $, h } from "../dom.js";
import { describeError } from "../format.js";
import { CommandKeys } from "../idempotency.js";
import { askForCredential, type Part, type PageState } from "../state.js";
import type { Store } from "../store.js";

export const FORMS = ["purchase", "bill", "payment", "cancel", "method", "close"] as const;
export type FormName = (typeof FORMS)[number];

/**
 * Wires form `name`: on submit, `run` makes the call with the form's idempotency key and
 * returns the text to show; `request` is what the form asks for (the same request retried
 * after a transport error keeps its key, so it cannot happen twice).
 */
export function wireForm(store: Store<PageState, Part>, name: FormName, run: (key: string) => Promise<string>, request: () => string): void {
  const form = $<HTMLFormElement>(`${name}-form`);
  const submit = $<HTMLButtonElement>(`${name}-submit`);
  const result = $(`${name}-result`);
  const error = $(`${name}-error`);
  const keys = new CommandKeys();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!store.state.member || submit.dataset.busy) return;
    const key = keys.keyFor(request());
    submit.dataset.busy = "1";
    submit.disabled = true;
    error.hidden = true;
    result.hidden = true;
    try {
      result.textContent = await run(key);
      result.hidden = false;
      keys.succeeded();
    } catch (err) {
      error.textContent = `エラー Error — ${describeError(err)}`;
      error.hidden = false;
      const code = ConnectError.from(err).code;
      if (code === Code.Unauthenticated) store.update((s) => askForCredential(s, describeError(err)));
      keys.failed(code);
    } finally {
      delete submit.dataset.busy;
      submit.disabled = false;
      renderChoices(store.state);
    }
  });
}

/** Hides every form's result and error (another member was opened). */
export function clearForms(): void {
  for (const name of FORMS) {
    $(`${name}-result`).hidden = true;
    $(`${name}-error`).hidden = true;
  }
  $("close-progress").hidden = true;
}

/** A field's value, trimmed. */
export function field(form: FormName, name: string): string {
  const el = $<HTMLFormElement>(`${form}-form`).elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
  return el.value.trim();
}

export function mountChoices(store: Store<PageState, Part>): void {
  store.on(["member", "choices"], renderChoices);
  $<HTMLSelectElement>("payment-bill").addEventListener("change", () => syncPaymentAmount(store.state));
}

function renderChoices(state: PageState): void {
  const view = state.member?.view;
  if (!view) return;
  fillSelect("bill-promise", "bill-submit", billablePromises(view));

  const billSelect = $<HTMLSelectElement>("payment-bill");
  const before = billSelect.value;
  fillSelect("payment-bill", "payment-submit", payableBills(view));
  // A new choice, or the chosen bill has another amount left now (adjusted by a
  // cancellation, or paid in part).
  const left = leftToPay(view, billSelect.value);
  if (billSelect.value !== before || (left !== "" && left !== billSelect.dataset.amount)) syncPaymentAmount(state);

  fillSelect("cancel-order", "cancel-submit", cancellableOrders(view));
}

/** Fills a form's <select>, keeping its choice while it is offered; no choices disable its button. */
function fillSelect(selectId: string, submitId: string, { options, empty }: Choices): void {
  const select = $<HTMLSelectElement>(selectId);
  const keep = select.value;
  $<HTMLButtonElement>(submitId).disabled = options.length === 0;
  if (options.length === 0) {
    select.replaceChildren(h("option", { value: "" }, empty));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.text)));
  if (options.some((o) => o.value === keep)) select.value = keep;
}

/** The payment form's amount: what is left to pay on the chosen bill. */
function syncPaymentAmount(state: PageState): void {
  const select = $<HTMLSelectElement>("payment-bill");
  const left = state.member ? leftToPay(state.member.view, select.value) : "";
  $<HTMLInputElement>("payment-amount").value = left;
  select.dataset.amount = left;
}

