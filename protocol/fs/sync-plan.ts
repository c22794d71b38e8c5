// Deciding what `sync` does, as pure data: compare the host tree with the board tree (sizes, and the short
// sha256 digests of digest.ts that the board computed while it walked) and list directories to create, files
// to upload and, with --delete, board entries to remove. Board entries the ignore rules match are never touched, nor those the
// caller protects (`deletable`), nor a directory holding one of those.
import type { IgnoreRules } from './ignore.js';

export interface LocalFile {
  rel: string;
  kind: 'file' | 'dir';
  size: number;
  sha256?: string;
}

export interface RemoteFile {
  rel: string;
  kind: 'file' | 'dir';
  size: number;
  sha256?: string;
}

export interface SyncPlan {
  mkdirs: string[];
  uploads: { rel: string; reason: 'new' | 'changed' }[];
  /** Children before parents, so directories are empty when their turn comes. */
  deletes: { rel: string; kind: 'file' | 'dir' }[];
  /** Board entries --delete would have removed but `deletable` protects (they are left, and said so). */
  kept: string[];
  unchanged: string[];
}

export interface PlanOptions {
  delete?: boolean;
  ignore?: IgnoreRules;
  /** With --delete: may this board entry, which the host tree lacks, go? (default: yes) */
  deletable?: (rel: string, kind: 'file' | 'dir') => boolean;
}

export function planSync(local: LocalFile[], remote: RemoteFile[], opts: PlanOptions = {}): SyncPlan {
  const remoteByRel = new Map(remote.map((r) => [r.rel, r]));
  const localRels = new Set(local.map((l) => l.rel));
  const plan: SyncPlan = { mkdirs: [], uploads: [], deletes: [], kept: [], unchanged: [] };
  // A type clash (file here, directory there) needs the board entry gone first, so it counts as a delete.
  const clashes = new Set<string>();
  for (const l of local) {
    const r = remoteByRel.get(l.rel);
    if (r && r.kind !== l.kind) clashes.add(l.rel);
    if (l.kind === 'dir') {
      if (!r || clashes.has(l.rel)) plan.mkdirs.push(l.rel);
    } else if (!r || clashes.has(l.rel)) plan.uploads.push({ rel: l.rel, reason: 'new' });
    else if (r.size !== l.size || !r.sha256 || r.sha256 !== l.sha256) plan.uploads.push({ rel: l.rel, reason: 'changed' });
    else plan.unchanged.push(l.rel);
  }
  const underClash = (rel: string) => [...clashes].some((c) => rel === c || rel.startsWith(`${c}/`));
  // Children come before their parents here, so a directory knows whether it still holds a kept entry.
  const holdsKept = new Set<string>();
  for (const r of [...remote].reverse()) {
    const ignored = opts.ignore?.ignores(r.rel, r.kind === 'dir') || ancestors(r.rel).some((a) => opts.ignore?.ignores(a, true));
    if (underClash(r.rel)) plan.deletes.push({ rel: r.rel, kind: r.kind });
    else if (!opts.delete || localRels.has(r.rel) || ignored) continue;
    else if (!holdsKept.has(r.rel) && (opts.deletable?.(r.rel, r.kind) ?? true)) plan.deletes.push({ rel: r.rel, kind: r.kind });
    else {
      if (!holdsKept.has(r.rel)) plan.kept.push(r.rel);
      for (const a of ancestors(r.rel)) holdsKept.add(a);
    }
  }
  plan.kept.reverse();
  return plan;
}

function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
