// What a past operation did, in the UI's language: the core keeps each operation's edit ops
// (`HistoryEntry.ops`, kind and arguments); its `label` is English (the CLI's words) and is shown
// only for operations journaled before the ops were kept. The English words follow the label's
// (`add tags x`), so the CLI and the UI say the same.

import type { EditOp } from './bindings/EditOp';
import type { HistoryEntry } from './bindings/HistoryEntry';

type Translate = (key: string, vars?: Record<string, string | number>) => string;

function value(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One op in words. */
export function describeOp(op: EditOp, t: Translate, list: (items: string[]) => string): string {
  switch (op.op) {
    case 'set':
      return t('history.op.set', { key: op.key, value: value(op.value) });
    case 'unset':
      return t('history.op.unset', { key: op.key });
    case 'add-items':
      return t('history.op.add', { key: op.key, items: list(op.items) });
    case 'remove-items':
      return t('history.op.remove', { key: op.key, items: list(op.items) });
    case 'rename-items':
      return t(op.from.length > 1 ? 'history.op.merge' : 'history.op.rename', {
        key: op.key,
        from: list(op.from),
        to: op.to,
      });
    case 'replace':
      return t('history.op.replace', { key: op.key, find: op.find, replace: op.replace });
    case 'raw':
      return t('history.op.raw');
    case 'clean':
      return t('history.op.clean', { key: op.key, how: t(`history.op.clean.${op.how}`) });
    case 'date-from':
      return t('history.op.dateFrom', { source: t(`history.op.dateFrom.${op.source}`) });
  }
}

/** The whole operation in words: its ops (and its file when it changed one), else its label. */
export function describeEntry(e: HistoryEntry, t: Translate, list: (items: string[]) => string): string {
  if (!e.ops.length) return e.label;
  const what = e.ops.map((op) => describeOp(op, t, list)).join(t('history.op.separator'));
  return e.path ? t('history.op.inFile', { file: e.path.split('/').pop() ?? e.path, what }) : what;
}
