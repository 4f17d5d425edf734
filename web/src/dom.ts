// A tiny DOM helper: h("td", { class: "num" }, "¥3,000"). Text is always set as text.
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** Japanese label with its English beside it. */
export function bi(ja: string, en: string): DocumentFragment {
  const f = document.createDocumentFragment();
  f.append(`${ja} `, h("span", { class: "en" }, en));
  return f;
}

export function $<T extends Element = HTMLElement>(testid: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`missing element ${testid}`);
  return el;
}

/** A status badge: Japanese label, English beside it. */
export function badge(cls: string, ja: string, en: string, testid: string): HTMLElement {
  return h("span", { class: `badge ${cls}`, "data-testid": testid }, ja, " ", h("span", { class: "en" }, en));
}

/** The class attribute of the names given (falsy ones left out); undefined for none. */
export function cls(...names: (string | false)[]): string | undefined {
  return names.filter(Boolean).join(" ") || undefined;
}
