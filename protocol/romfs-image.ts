// The ROMFS image format (MicroPython 1.25+, specified in extmod/vfs_rom.c): pure bytes in, tree out.
// Everything is a record: varuint kind, varuint payload length, payload. A varuint is big-endian, 7 bits a
// byte, the high bit set on every byte but the last. The image is one record of kind 0x14a6b1 (encoded
// d2 cd 31, "RM1") whose payload holds the top-level records; a directory (kind 4) and a file (kind 5) carry
// a varuint name length, the name, then nested records: a directory its entries, a file its data (kind 2,
// verbatim, or kind 3, a size and an offset into the image). Readers skip kinds they do not know.

export const ROMFS_HEADER = Uint8Array.of(0xd2, 0xcd, 0x31);

const KIND = { unused: 0, padding: 1, verbatim: 2, pointer: 3, directory: 4, file: 5, filesystem: 0x14a6b1 } as const;

export interface RomfsFile {
  name: string;
  data: Uint8Array;
}

export interface RomfsDir {
  name: string;
  entries: RomfsEntry[];
}

export type RomfsEntry = RomfsFile | RomfsDir;

export function isRomfsDir(entry: RomfsEntry): entry is RomfsDir {
  return 'entries' in entry;
}

export class RomfsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RomfsFormatError';
  }
}

function varuint(value: number): number[] {
  const out = [value % 128];
  for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) out.unshift(0x80 | v % 128);
  return out;
}

function record(kind: number, payload: Uint8Array[]): Uint8Array[] {
  const length = payload.reduce((n, p) => n + p.length, 0);
  return [Uint8Array.from([...varuint(kind), ...varuint(length)]), ...payload];
}

function named(name: string): Uint8Array[] {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || name.includes('/')) throw new RomfsFormatError(`'${name}' is not a file or directory name`);
  return [Uint8Array.from(varuint(bytes.length)), bytes];
}

function entryRecord(entry: RomfsEntry): Uint8Array[] {
  if (isRomfsDir(entry)) return record(KIND.directory, [...named(entry.name), ...entry.entries.flatMap(entryRecord)]);
  return record(KIND.file, [...named(entry.name), ...record(KIND.verbatim, [entry.data])]);
}

/** The image of these top-level entries. Its total length is even (the format asks for it): an odd one gets a 0x80 pad byte in front of the length varuint. */
export function encodeRomfs(entries: RomfsEntry[]): Uint8Array {
  const body = entries.flatMap(entryRecord);
  const bodyLength = body.reduce((n, p) => n + p.length, 0);
  let length = varuint(bodyLength);
  if ((ROMFS_HEADER.length + length.length + bodyLength) % 2 === 1) length = [0x80, ...length];
  const parts = [ROMFS_HEADER, Uint8Array.from(length), ...body];
  const image = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (image.set(p, at), at + p.length), 0);
  return image;
}

/** Reads records out of one span of the image. */
class Reader {
  constructor(
    private readonly image: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  uint(): number {
    let value = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RomfsFormatError(`a number runs past its record at byte ${this.pos}`);
      const byte = this.image[this.pos++]!;
      value = value * 128 + (byte & 0x7f);
      if (!(byte & 0x80)) return value;
    }
  }

  /** The next record: its kind and a reader over its payload (this reader moves past it). */
  record(): { kind: number; payload: Reader } {
    const kind = this.uint();
    const length = this.uint();
    const start = this.pos;
    if (start + length > this.end) throw new RomfsFormatError(`a record of ${length} bytes at byte ${start} runs past its parent`);
    this.pos = start + length;
    return { kind, payload: new Reader(this.image, start, start + length) };
  }

  /** The rest of the span. */
  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new RomfsFormatError(`${n} bytes at byte ${this.pos} run past their record`);
    this.pos += n;
    return this.image.subarray(this.pos - n, this.pos);
  }
}

/** The image's length from its first bytes (the filesystem record's header plus payload), or undefined when they are not a ROMFS header. */
export function romfsImageLength(head: Uint8Array): number | undefined {
  if (!ROMFS_HEADER.every((b, i) => head[i] === b)) return undefined;
  const r = new Reader(head, ROMFS_HEADER.length, head.length);
  try {
    const length = r.uint();
    return r.pos + length;
  } catch {
    return undefined;
  }
}

/** The tree an image holds (what VfsRom would show); a malformed image is a RomfsFormatError. */
export function decodeRomfs(image: Uint8Array): RomfsEntry[] {
  if (romfsImageLength(image) === undefined) throw new RomfsFormatError('not a ROMFS image (it does not start with d2 cd 31)');
  const top = new Reader(image, 0, image.length).record();
  // Data pointers count from the start of the filesystem record's payload, as VfsRom resolves them.
  const base = top.payload.pos;
  const entries = (span: Reader): RomfsEntry[] => {
    const out: RomfsEntry[] = [];
    while (!span.done) {
      const { kind, payload } = span.record();
      if (kind === KIND.unused) throw new RomfsFormatError(`a record of kind 0 (corrupt) at byte ${payload.pos}`);
      if (kind !== KIND.directory && kind !== KIND.file) continue;
      const name = new TextDecoder().decode(payload.bytes(payload.uint()));
      out.push(kind === KIND.directory ? { name, entries: entries(payload) } : { name, data: fileData(payload, name) });
    }
    return out;
  };
  const fileData = (span: Reader, name: string): Uint8Array => {
    while (!span.done) {
      const { kind, payload } = span.record();
      if (kind === KIND.verbatim) return new Uint8Array(payload.rest());
      if (kind === KIND.pointer) {
        const size = payload.uint();
        const offset = payload.uint();
        if (base + offset + size > image.length) throw new RomfsFormatError(`the data of '${name}' points past the image`);
        return new Uint8Array(image.subarray(base + offset, base + offset + size));
      }
    }
    throw new RomfsFormatError(`the file '${name}' has no data record`);
  };
  return entries(top.payload);
}
