// esptool's flasher-stub JSON: {"entry", "text", "text_start", "data", "data_start", ...}, segments base64.
import { BoardError } from '../errors.js';

export interface StubImage {
  entry: number;
  segments: { address: number; data: Uint8Array }[];
}

export function parseStubJson(json: string, source = 'stub'): StubImage {
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch (err) {
    throw new BoardError('BAD_IMAGE', `${source}: not JSON (${(err as Error).message})`);
  }
  const o = obj as Record<string, unknown>;
  if (typeof o.entry !== 'number' || o.entry === 0) {
    throw new BoardError('BAD_IMAGE', `${source}: missing or zero "entry"`);
  }
  const segments: StubImage['segments'] = [];
  for (const field of ['text', 'data']) {
    const b64 = o[field];
    const start = o[`${field}_start`];
    if (b64 === undefined) continue;
    if (typeof b64 !== 'string' || typeof start !== 'number') {
      throw new BoardError('BAD_IMAGE', `${source}: "${field}" needs a base64 string and a numeric "${field}_start"`);
    }
    segments.push({ address: start, data: new Uint8Array(Buffer.from(b64, 'base64')) });
  }
  if (segments.length === 0) throw new BoardError('BAD_IMAGE', `${source}: no "text" or "data" segment`);
  return { entry: o.entry, segments };
}
