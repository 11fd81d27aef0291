// Multi-selection over result rows by index: click, shift-click (range from the anchor),
// ctrl/cmd-click (toggle), select all. "All" is kept as all-but-exceptions, so selecting every
// one of 70,000 rows costs nothing. Indices belong to one query and sort; a new query clears it.
//
// Reactive state (Svelte runes): what reads `has`, `count` or `indices` follows every change. The
// set of rows is replaced, never changed in place, so a range of thousands of rows is one signal
// written once (a SvelteSet would write one per row, and keep one per row read).

export class Selection {
  all = $state(false);
  /** Selected rows, or with `all`, the rows left out. */
  #rows = $state.raw(new Set<number>());
  anchor = $state<number | null>(null);

  has(i: number): boolean {
    return this.all !== this.#rows.has(i);
  }

  count(total: number): number {
    return this.all ? Math.max(0, total - this.#rows.size) : this.#rows.size;
  }

  clear() {
    this.all = false;
    this.#rows = new Set();
    this.anchor = null;
  }

  selectAll() {
    this.all = true;
    this.#rows = new Set();
  }

  /** Puts row i in or out of the selection, in `rows` (a copy being built). */
  #set(rows: Set<number>, i: number, on: boolean) {
    if (on !== this.all) rows.add(i);
    else rows.delete(i);
  }

  /** A click on row i, with its modifier keys. */
  click(i: number, mods: { shift?: boolean; toggle?: boolean } = {}) {
    if (mods.shift && this.anchor !== null) {
      const [a, b] = this.anchor < i ? [this.anchor, i] : [i, this.anchor];
      let rows: Set<number>;
      if (mods.toggle) {
        rows = new Set(this.#rows);
      } else {
        this.all = false;
        rows = new Set();
      }
      for (let k = a; k <= b; k++) this.#set(rows, k, true);
      this.#rows = rows;
      return;
    }
    if (mods.toggle) {
      const rows = new Set(this.#rows);
      this.#set(rows, i, !this.has(i));
      this.#rows = rows;
      this.anchor = i;
      return;
    }
    this.all = false;
    this.#rows = new Set([i]);
    this.anchor = i;
  }

  /** The selected rows below `total`, in order (for bulk actions on small selections). */
  indices(total: number): number[] {
    const rows = this.#rows;
    if (!this.all) return [...rows].filter((i) => i < total).sort((a, b) => a - b);
    const out: number[] = [];
    for (let i = 0; i < total; i++) if (!rows.has(i)) out.push(i);
    return out;
  }
}
