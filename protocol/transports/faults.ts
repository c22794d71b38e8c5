// A fault-injecting wrapper around any Transport: drops, bit flips, duplicates and delays of single bytes,
// in both directions, decided per byte by a seeded generator so a trial can be repeated exactly. Users test
// their own code's robustness with it (`virtual:NAME?faults=drop:1e-4,flip:1e-4,seed=7`, `sim serve
// --faults …`); boardctl's tests run their fault trials through it.
import { BoardError } from '../errors.js';
import type { Transport } from '../transport.js';
import { DelegatingTransport } from './delegating.js';
import { LinkEvents } from './link-events.js';

export type FaultKind = 'drop' | 'flip' | 'dup' | 'delay';
const KINDS: readonly FaultKind[] = ['drop', 'flip', 'dup', 'delay'];

export interface FaultSpec {
  /** Probability per byte of each fault. */
  drop: number;
  flip: number;
  dup: number;
  delay: number;
  /** How long a delay fault holds the stream (ms). */
  delayMs: number;
  seed: number;
  /** Which way the faults apply: host to board, board to host, or both. */
  direction: 'both' | 'to-board' | 'from-board';
}

export type FaultCounts = Record<FaultKind, number>;

const DEFAULT_DELAY_MS = 50;

const usage = (spec: string, why: string) =>
  new BoardError('USAGE', `bad fault spec '${spec}': ${why} (e.g. drop:1e-4,flip:1e-4,dup:1e-5,delay:1e-4@50,seed=7,dir=both)`);

/** Parse `drop:P,flip:P,dup:P,delay:P[@MS],seed=N,dir=both|to-board|from-board` (`:` and `=` both accepted). */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = { drop: 0, flip: 0, dup: 0, delay: 0, delayMs: DEFAULT_DELAY_MS, seed: 1, direction: 'both' };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)[:=](.+)$/.exec(item);
    if (!m) throw usage(text, `'${item}' is not NAME:VALUE`);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'seed') {
      if (!/^\d+$/.test(value)) throw usage(text, `seed must be a whole number, not '${value}'`);
      spec.seed = Number(value);
    } else if (key === 'dir') {
      if (value !== 'both' && value !== 'to-board' && value !== 'from-board') throw usage(text, `dir must be both, to-board or from-board`);
      spec.direction = value;
    } else if ((KINDS as readonly string[]).includes(key)) {
      const [p, ms] = value.split('@');
      const prob = Number(p);
      if (!Number.isFinite(prob) || prob < 0 || prob > 1) throw usage(text, `${key} needs a probability between 0 and 1, not '${p}'`);
      spec[key as FaultKind] = prob;
      if (ms !== undefined) {
        if (key !== 'delay' || !/^\d+$/.test(ms)) throw usage(text, `only delay takes @MS`);
        spec.delayMs = Number(ms);
      }
    } else throw usage(text, `unknown fault '${key}'`);
  }
  return spec;
}

/** The canonical text of a spec (what `parseFaultSpec` reads back to the same spec). */
export function formatFaultSpec(s: FaultSpec): string {
  const parts = KINDS.filter((k) => s[k] > 0).map((k) => `${k}:${s[k]}${k === 'delay' && s.delayMs !== DEFAULT_DELAY_MS ? `@${s.delayMs}` : ''}`);
  return [...parts, `seed=${s.seed}`, ...(s.direction === 'both' ? [] : [`dir=${s.direction}`])].join(',');
}

/** mulberry32: a small, well-mixed 32-bit generator; one per direction so each stream's faults repeat exactly. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One direction of the link: bytes go through `mangle` one by one and leave in order; a delay fault holds
 * everything behind it for delayMs.
 */
class FaultyStream {
  private readonly random: () => number;
  private queue: Uint8Array[] = [];
  private held = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: FaultSpec,
    seed: number,
    private readonly active: boolean,
    private readonly counts: FaultCounts,
    private readonly deliver: (bytes: Uint8Array) => void,
  ) {
    this.random = generator(seed);
  }

  push(chunk: Uint8Array): void {
    if (!this.active) {
      this.forward(chunk);
      return;
    }
    const s = this.spec;
    let out: number[] = [];
    for (const b of chunk) {
      if (s.delay && this.random() < s.delay) {
        this.counts.delay++;
        if (out.length) this.forward(Uint8Array.from(out));
        out = [];
        this.hold();
      }
      if (s.drop && this.random() < s.drop) {
        this.counts.drop++;
        continue;
      }
      let v = b;
      if (s.flip && this.random() < s.flip) {
        this.counts.flip++;
        v ^= 1 << Math.floor(this.random() * 8);
      }
      out.push(v);
      if (s.dup && this.random() < s.dup) {
        this.counts.dup++;
        out.push(v);
      }
    }
    if (out.length) this.forward(Uint8Array.from(out));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue = [];
  }

  private forward(bytes: Uint8Array): void {
    if (this.held) this.queue.push(bytes);
    else this.deliver(bytes);
  }

  private hold(): void {
    if (this.held) return;
    this.held = true;
    this.timer = setTimeout(() => {
      this.held = false;
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) this.deliver(q);
    }, this.spec.delayMs);
  }
}

/** A Transport whose bytes suffer the faults of `spec`; `counts` tells how many of each were injected. */
export class FaultyTransport extends DelegatingTransport {
  readonly counts: FaultCounts = { drop: 0, flip: 0, dup: 0, delay: 0 };
  private readonly events = new LinkEvents();
  private readonly toBoard: FaultyStream;
  private readonly fromBoard: FaultyStream;
  private readonly off: Array<() => void>;
  /** Writes wait for the delayed bytes before them, so a write resolves after its bytes reached the link. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    inner: Transport,
    readonly spec: FaultSpec,
  ) {
    super(inner);
    const { direction: dir } = spec;
    this.toBoard = new FaultyStream(spec, spec.seed, dir !== 'from-board', this.counts, (b) => {
      this.writing = this.writing.then(() => inner.write(b)).catch(() => {});
    });
    this.fromBoard = new FaultyStream(spec, spec.seed ^ 0x9e3779b9, dir !== 'to-board', this.counts, (b) => this.events.emitData(b));
    this.off = [
      inner.onData((chunk) => this.fromBoard.push(chunk)),
      inner.onClose((err) => {
        this.stopStreams();
        this.events.emitClose(err);
      }),
    ];
  }

  override async write(data: Uint8Array): Promise<void> {
    if (this.events.closed) throw new BoardError('LINK_LOST', `${this.path}: the connection is closed`, { port: this.path });
    this.toBoard.push(data);
    await this.writing;
  }
  override onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(listener);
  }
  override onClose(listener: (err?: Error) => void): () => void {
    return this.events.onClose(listener);
  }

  override async close(): Promise<void> {
    this.stopStreams();
    await this.inner.close();
    this.events.emitClose();
    for (const off of this.off.splice(0)) off();
  }

  private stopStreams(): void {
    this.toBoard.stop();
    this.fromBoard.stop();
  }
}

/** Wrap `inner` when a spec is given (text as in the port string), else return it as is. */
export function withFaults<T extends Transport>(inner: T, spec: string | FaultSpec | undefined): T {
  if (spec === undefined || spec === '') return inner;
  // FaultyTransport passes the link's optional extras through (holdOutput, purge), so it stands in for any T here.
  return new FaultyTransport(inner, typeof spec === 'string' ? parseFaultSpec(spec) : spec) as unknown as T;
}
