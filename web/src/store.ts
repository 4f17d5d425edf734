// The page's one state object and who draws which part of it. An update changes the state
// and names the parts it changed; only the views of those parts are drawn again.

interface View<S, P> {
  parts: ReadonlySet<P>;
  render: (state: S) => void;
}

export class Store<S, P extends string> {
  private readonly views: View<S, P>[] = [];

  constructor(readonly state: S) {}

  /** Draws `render` whenever one of `parts` changes. */
  on(parts: readonly P[], render: (state: S) => void): void {
    this.views.push({ parts: new Set(parts), render });
  }

  /**
   * Applies `change` (which returns the parts it changed), then draws each view of one of
   * those parts once, in the order the views were registered. Returns the parts.
   */
  update(change: (state: S) => readonly P[]): Set<P> {
    const parts = new Set(change(this.state));
    for (const view of this.views) {
      if ([...parts].some((p) => view.parts.has(p))) view.render(this.state);
    }
    return parts;
  }
}
