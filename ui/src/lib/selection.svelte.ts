// Multi-selection over result rows by index: click, shift-click (range from the anchor),
// ctrl/cmd-click (toggle), select all. "All" is kept as all-but-exceptions, so selecting every
// one of 70,000 rows costs nothing. Indices belong to one query and sort; a new query clears it.
// Reactive state (Svelte runes): what reads `has`, `count` or `indices` follows every change.

import { SvelteSet } from 'svelte/reactivity';

export class Selection {
  all = $state(false);
  /** Selected rows, or with `all`, the rows left out. */
  private rows = new SvelteSet<number>();
  anchor = $state<number | null>(null);

  has(i: number): boolean {
    return this.all !== this.rows.has(i);
  }

  count(total: number): number {
    return this.all ? Math.max(0, total - this.rows.size) : this.rows.size;
  }

  clear() {
    this.all = false;
    this.rows.clear();
    this.anchor = null;
  }

  selectAll() {
    this.all = true;
    this.rows.clear();
  }

  private set(i: number, on: boolean) {
    if (on !== this.all) this.rows.add(i);
    else this.rows.delete(i);
  }

  /** A click on row i, with its modifier keys. */
  click(i: number, mods: { shift?: boolean; toggle?: boolean } = {}) {
    if (mods.shift && this.anchor !== null) {
      const [a, b] = this.anchor < i ? [this.anchor, i] : [i, this.anchor];
      if (!mods.toggle) {
        this.all = false;
        this.rows.clear();
      }
      for (let k = a; k <= b; k++) this.set(k, true);
      return;
    }
    if (mods.toggle) {
      this.set(i, !this.has(i));
      this.anchor = i;
      return;
    }
    this.all = false;
    this.rows.clear();
    this.rows.add(i);
    this.anchor = i;
  }

  /** The selected rows below `total`, in order (for bulk actions on small selections). */
  indices(total: number): number[] {
    if (!this.all) return [...this.rows].filter((i) => i < total).sort((a, b) => a - b);
    const out: number[] = [];
    for (let i = 0; i < total; i++) if (!this.rows.has(i)) out.push(i);
    return out;
  }
}
