// Board-side Python for file operations. Each snippet is one exec (never a round trip per file), prints
// machine-readable lines, and catches OSError itself so the host gets the errno without parsing tracebacks.
// Names are printed with repr() and parsed by parsePyStr; code stays small because it travels at the baud rate.
import { FROM_BOARD, pyEscapeExpr, pyStr } from './wire.js';

/** Temp files are `.~bctmp.NAME` next to their target; anything with this prefix is debris of a broken upload. */
export const TEMP_PREFIX = '.~bctmp.';

const list = (items: string[]) => `[${items.map(pyStr).join(',')}]`;

/** Board-side stdout escaping (FROM_BOARD in wire.ts), shared by the probe and the sender. */
const STDOUT_ESCAPE = `def E(x):return ${pyEscapeExpr(FROM_BOARD, 'x')}`;

/**
 * Capability probe: modules present, cwd, and whether a stdin receiver can run at all. Then, if stdout has
 * a binary buffer, `marker` and every byte value escaped as the sender would, so the host (reading the
 * link's raw bytes) sees whether raw downloads arrive intact.
 */
export function probeSource(marker: string): string {
  return [
    'import sys,os',
    'r=[]',
    "for m in ('binascii','hashlib','deflate'):",
    ' try:__import__(m);r.append(m)',
    ' except ImportError:pass',
    "if hasattr(sys.stdin,'buffer') and hasattr(sys.stdin.buffer,'readinto'):r.append('stdin')",
    "print('C',' '.join(r))",
    'print(repr(os.getcwd()))',
    STDOUT_ESCAPE,
    `try:sys.stdout.buffer.write(b"${marker}\\n"+E(bytes(range(256)))+b"\\n")`,
    'except Exception:pass',
  ].join('\n');
}

/**
 * Echo test for the stdin link. It first reads one harmless byte and says `G`, so a firmware whose stdin
 * cannot be read fails before the full pattern is sent (which would otherwise land in the raw REPL);
 * then it reads exactly `n` raw bytes and prints them in hex, so the host sees whether every byte value
 * (bar the ones we escape) arrives untouched.
 */
export function stdinEchoSource(n: number): string {
  return [
    'import sys',
    `b=bytearray(${n});v=memoryview(b);k=0;r=sys.stdin.buffer.readinto`,
    "print('R')",
    "while not r(v[:1]):pass",
    "print('G')",
    `while k<${n}:k+=r(v[k:]) or 0`,
    "print(''.join('%02x'%x for x in b))",
  ].join('\n');
}

/** One entry per line: `kind size mtime repr(name)`; kind d/f; a missing or failing path prints `E errno`. */
export function listSource(paths: string[], withTimes: boolean): string {
  return [
    'import os',
    'def L(p):',
    " S=lambda e:os.stat(p.rstrip('/')+'/'+e[0])",
    ' try:',
    '  m=os.stat(p)',
    '  if not m[0]&0x4000:',
    `   print('F',m[6],${withTimes ? 'm[8]' : '0'},repr(p));return`,
    "  print('D',0,0,repr(p))",
    '  for e in os.ilistdir(p):',
    // Sizes and times from stat: not every VFS fills ilistdir's size field.
    `   d=e[1]&0x4000;m=${withTimes ? 'S(e)' : '(0,)*9 if d else S(e)'}`,
    `   print('d' if d else 'f',0 if d else m[6],${withTimes ? 'm[8]' : '0'},repr(e[0]))`,
    " except OSError as x:print('E',x.args[0],0,repr(p))",
    `for p in ${list(paths)}:L(p)`,
  ].join('\n');
}

/**
 * Recursive walk under each root: `d size repr(relpath)` / `f size repr(relpath)`, parents before children.
 * With `hashFor`, files whose relative path is in that dict and whose size matches also get their sha256,
 * so sync compares a whole tree in one exec. Upload debris found on the way is removed.
 */
export function walkSource(root: string, hashFor?: Map<string, number>): string {
  const want = hashFor ? `{${[...hashFor].map(([p, n]) => `${pyStr(p)}:${n}`).join(',')}}` : '{}';
  return [
    'import os',
    'try:',
    ' from hashlib import sha256 as H;from binascii import hexlify as X',
    'except ImportError:H=None',
    `W=${want};T=${pyStr(TEMP_PREFIX)}`,
    'b=bytearray(1024);v=memoryview(b)',
    'def S(p):',
    ' h=H();f=open(p,"rb")',
    ' while 1:',
    '  k=f.readinto(b)',
    '  if not k:break',
    '  h.update(v[:k])',
    ' f.close();return X(h.digest()).decode()',
    'def R(a,r):',
    ' for e in os.ilistdir(a):',
    "  n=e[0];p=a.rstrip('/')+'/'+n;q=r+'/'+n if r else n",
    '  if n.startswith(T):',
    '   try:os.remove(p)',
    '   except OSError:pass',
    '   continue',
    '  if e[1]&0x4000:',
    "   print('d',0,repr(q));R(p,q)",
    '  else:',
    '   s=os.stat(p)[6]',
    "   print('f',s,repr(q),S(p) if H and W.get(q)==s else '-')",
    'try:',
    ` m=os.stat(${pyStr(root)})`,
    " if m[0]&0x4000:print('D');R(" + pyStr(root) + ",'')",
    " else:print('F',m[6])",
    "except OSError as x:print('E',x.args[0])",
  ].join('\n');
}

/** Batched path operations; each path prints `OK` or `E errno`. */
export type PathOp = 'stat' | 'remove' | 'removeTree' | 'mkdir' | 'mkdirParents' | 'rmdir' | 'touch' | 'sha256';

const OP_BODY: Record<PathOp, string[]> = {
  stat: [
    ' m=os.stat(p);return ("d " if m[0]&0x4000 else "f ")+str(m[6])',
  ],
  remove: [
    ' if os.stat(p)[0]&0x4000:raise OSError(21)',
    ' os.remove(p)',
  ],
  removeTree: [' Z(p)'],
  mkdir: [' os.mkdir(p)'],
  mkdirParents: [
    " q=''",
    " for c in p.split('/'):",
    '  if not c:continue',
    "  q+='/'+c",
    '  try:os.mkdir(q)',
    '  except OSError as x:',
    // An existing directory is fine, whatever errno this VFS reports for it.
    '   try:d=os.stat(q)[0]&0x4000',
    '   except OSError:raise x',
    '   if not d:raise OSError(20 if q!=p else 17)',
  ],
  rmdir: [' os.rmdir(p)'],
  touch: [
    ' try:os.stat(p)',
    " except OSError:open(p,'wb').close()",
  ],
  sha256: [
    ' from hashlib import sha256;from binascii import hexlify',
    " h=sha256();f=open(p,'rb');b=bytearray(1024);v=memoryview(b)",
    ' while 1:',
    '  k=f.readinto(b)',
    '  if not k:break',
    '  h.update(v[:k])',
    " f.close();return hexlify(h.digest()).decode()",
  ],
};

export function pathOpSource(op: PathOp, paths: string[]): string {
  const helpers =
    op === 'removeTree'
      ? [
          'def Z(p):',
          ' if os.stat(p)[0]&0x4000:',
          "  for e in os.ilistdir(p):Z(p.rstrip('/')+'/'+e[0])",
          "  if p!='/':os.rmdir(p)",
          ' else:os.remove(p)',
        ]
      : [];
  return [
    'import os',
    ...helpers,
    'def O(p):',
    ...OP_BODY[op],
    `for p in ${list(paths)}:`,
    ' try:r=O(p)',
    " except OSError as x:print('E',x.args[0]);continue",
    " print('OK',r or '')",
  ].join('\n');
}

/** statvfs of a path: block size, total, free, available blocks. */
export function statvfsSource(path: string): string {
  return [
    'import os',
    'try:',
    ` s=os.statvfs(${pyStr(path)});print('V',s[0],s[1] or s[0],s[2],s[3],s[4])`,
    "except OSError as x:print('E',x.args[0])",
  ].join('\n');
}

/** One file to receive: target path, wire length, final size, expected sha256 hex (or null), mode. */
export interface ReceiverEntry {
  dest: string;
  wireLength: number;
  size: number;
  sha256: string | null;
  mode: ReceiverMode;
}

/** 0: escaped raw bytes; 1: escaped raw deflate stream; 2: base64 text. */
export type ReceiverMode = 0 | 1 | 2;

/** Deflate window the host compresses with (the board allocates 2^bits bytes to inflate). */
export const DEFLATE_WINDOW_BITS = 12;

/**
 * Definitions every upload path shares (kept as globals, so the exec fallback reuses them across execs):
 * P(M,D) checks free space for the manifest before anything is written, creates directories D and clears
 * upload debris in the target directories; V(t,d,n,h) checks a finished temp file's size and sha256 on
 * flash and renames it over the target, returning 0, an errno, -1 (hash mismatch) or -2 (size mismatch).
 */
function uploadCommon(entries: ReceiverEntry[], dirs: string[]): string[] {
  const manifest = entries
    .map((e) => `(${pyStr(e.dest)},${e.wireLength},${e.size},${e.sha256 ? pyStr(e.sha256) : 'None'},${e.mode})`)
    .join(',');
  return [
    'import sys,os',
    'try:',
    ' from hashlib import sha256 as H;from binascii import hexlify as X',
    'except ImportError:H=None',
    `M=[${manifest}];T=${pyStr(TEMP_PREFIX)}`,
    'def Q(p):',
    ' try:os.remove(p)',
    ' except OSError:pass',
    'def TP(d):',
    ' j=d.rfind("/");return d[:j+1]+T+d[j+1:]',
    'def P():',
    ' p=M[0][0];A=-1;K=4096',
    ' while p:',
    '  p=p[:p.rfind("/")]',
    '  try:s=os.statvfs(p or "/");A=s[0]*s[4];K=s[0];break',
    '  except OSError:pass',
    ' N=0',
    ' for m in M:N+=(m[2]+K-1)//K*K',
    ' if A>=0 and N>A:return N,A',
    ` for d in ${list(dirs)}:`,
    '  try:os.mkdir(d)',
    '  except OSError:pass',
    ' for d in set(m[0][:m[0].rfind("/")] or "/" for m in M):',
    '  try:',
    '   for e in os.ilistdir(d):',
    '    if e[0].startswith(T):Q(d.rstrip("/")+"/"+e[0])',
    '  except OSError:pass',
    ' return 0,A',
    'def V(t,d,n,h):',
    ' e=0',
    ' if os.stat(t)[6]!=n:e=-2',
    ' elif H and h:',
    '  q=H();f=open(t,"rb");b=bytearray(512)',
    '  while 1:',
    '   k=f.readinto(b)',
    '   if not k:break',
    '   q.update(memoryview(b)[:k])',
    '  f.close()',
    '  if X(q.digest()).decode()!=h:e=-1',
    ' if not e:',
    '  try:os.rename(t,d)',
    '  except OSError:',
    '   try:os.remove(d);os.rename(t,d)',
    '   except OSError as x:e=x.args[0]',
    ' if e:Q(t)',
    ' return e',
  ];
}

/**
 * The upload receiver. Protocol, all on the program's stdin/stdout:
 * - prints `S 0 avail` when it has room (or `S need avail` and stops before writing anything);
 * - reads each file's wire bytes in pieces that never cross a window boundary, writes them to a temp file
 *   next to the target, and after each full window of `window` wire bytes prints `A` (the host keeps one
 *   window in flight ahead of the acknowledged position);
 * - per file prints `F i result` (see V); on an abort marker removes the temp file and prints `X`.
 */
export function receiverSource(entries: ReceiverEntry[], window: number, dirs: string[]): string {
  const modes = new Set(entries.map((e) => e.mode));
  return [
    ...uploadCommon(entries, dirs),
    ...(modes.has(1)
      ? ['import io,deflate', 'class Z(io.IOBase):', ' def __init__(s,i):s.i=i;s.r=b""',
         ' def readinto(s,o):', '  if not s.r:s.r=next(s.i,b"")', '  n=min(len(o),len(s.r));o[:n]=s.r[:n];s.r=s.r[n:];return n',
         'def I(y):', ' o=bytearray(1024)', ' while 1:', '  k=y.readinto(o)', '  if not k:return', '  yield o[:k]']
      : []),
    ...(modes.has(2) ? ['from binascii import a2b_base64 as B'] : []),
    'class Ab(Exception):pass',
    `W=${window}`,
    'def R():',
    ' S=P();print("S",*S)',
    ' if S[0]:return',
    ' ri=sys.stdin.buffer.readinto;w=sys.stdout.write',
    ' b=bytearray(W);v=memoryview(b);g=0;c=0',
    ' def U(s):',
    '  nonlocal c',
    '  if not c and 27 not in s:return s',
    '  p=s.split(b"\\x1b")',
    '  if c:',
    '   if p[0][0]==65:raise Ab',
    '   p[0]=bytes((p[0][0]^64,))+p[0][1:]',
    '  c=0',
    '  if not p[-1]:c=1;p.pop()',
    '  for i in range(1,len(p)):',
    '   q=p[i]',
    '   if q[0]==65:raise Ab',
    '   p[i]=bytes((q[0]^64,))+q[1:]',
    '  return b"".join(p)',
    ' def C(L,z):',
    '  nonlocal g',
    '  while L:',
    '   k=min(W-g%W,L);j=0',
    '   while j<k:j+=ri(v[j:k]) or 0',
    '   s=bytes(v[:k])',
    '   if z<2:yield U(s)',
    '   elif 33 in s:raise Ab',
    '   else:yield B(s)',
    '   L-=k;g+=k',
    '   if g%W==0:w("A")',
    ' for i in range(len(M)):',
    '  d,L,n,h,z=M[i];t=TP(d);e=0;f=None',
    '  try:',
    '   try:f=open(t,"wb")',
    '   except OSError as x:e=x.args[0]',
    '   r=C(L,z);it=r',
    ...(modes.has(1) ? [`   if z==1:it=I(deflate.DeflateIO(Z(r),deflate.RAW,${DEFLATE_WINDOW_BITS}))`] : []),
    '   for x in it:',
    '    if f:',
    '     try:f.write(x)',
    '     except OSError as y:e=y.args[0];f.close();f=None',
    '   for x in r:pass',
    '  except Ab:',
    '   if f:f.close()',
    '   Q(t);print("X");return',
    '  except BaseException:',
    '   if f:f.close()',
    '   Q(t);raise',
    '  if f:f.close();e=V(t,d,n,h)',
    '  elif e:Q(t)',
    '  print("F",i,e)',
    'R()',
  ].join('\n');
}

/** Exec fallback, step 1: the shared definitions plus the space check (`S need avail`). */
export function execUploadBeginSource(entries: ReceiverEntry[], dirs: string[]): string {
  return [...uploadCommon(entries, dirs), 'print("S",*P())'].join('\n');
}

/** Exec fallback, per file: open the temp file (prints `E errno` if that fails). */
export function execUploadOpenSource(index: number): string {
  return `try:_f=open(TP(M[${index}][0]),"wb");print("OK")\nexcept OSError as x:print("E",x.args[0])`;
}

/** Exec fallback, per file: close, verify and rename (prints `F i result`). */
export function execUploadFinishSource(index: number): string {
  return `_f.close();m=M[${index}];print("F",${index},V(TP(m[0]),m[0],m[2],m[3]))`;
}

/** Deflate window the board compresses downloads with (small: it is board RAM). */
export const SEND_DEFLATE_BITS = 10;

export interface SenderOptions {
  /** File bytes per data line. */
  chunk: number;
  /** Per path: deflate on the board first. */
  compress: boolean[];
  /** Wait for the host's answer to each data line (needs a readable stdin). */
  flow: boolean;
  /** Escaped raw bytes through sys.stdout.buffer; otherwise base64 text. */
  raw: boolean;
  /** Printed first, so the host finds the output in the link's byte stream. */
  marker: string;
}

/**
 * The download sender: prints the marker, then per file `B i size z`, data lines `D` + payload, then
 * `E i sha256hex` (or `-` without hashlib); a failing file prints `F i errno` instead. The payload is
 * the chunk escaped (FROM_BOARD: no Ctrl-D, LF or CR survives raw) or, for firmware without a binary
 * stdout, base64. Files flagged in `compress` go through deflate on the board first (z=1: the lines
 * carry a raw deflate stream), which pays off for source text.
 * With `flow`, the host answers every data line with one stdin byte: `A` to go on, `X` to stop (the
 * sender then prints `X` and ends). The sender stays at most one line ahead of the host's answers, so
 * it never floods a UART and an abort needs no Ctrl-C; before ending it reads every answer it is owed,
 * so no byte is left over for the raw REPL.
 */
export function senderSource(paths: string[], o: SenderOptions): string {
  const zip = o.compress.some(Boolean);
  const { chunk } = o;
  return [
    'import sys,os',
    ...(o.raw
      ? [STDOUT_ESCAPE, 'Y=sys.stdout.buffer.write', 'def D(x):Y(b"D"+E(x)+b"\\n")']
      : ['from binascii import b2a_base64 as B', 'def D(x):sys.stdout.write("D"+B(x).decode())']),
    'try:',
    ' from hashlib import sha256 as H;from binascii import hexlify as X',
    'except ImportError:H=None',
    'class Ab(Exception):pass',
    `u=0;F=${o.flow ? 1 : 0}`,
    `print(${pyStr(o.marker)})`,
    'def K():',
    ' global u',
    ' c=sys.stdin.buffer.read(1);u-=1',
    ' if c==b"X":raise Ab',
    'def L(x):',
    ' global u',
    ' D(x);u+=1',
    ' if F and u>1:K()',
    ...(zip
      ? ['import io,deflate', 'class O(io.IOBase):', ' def __init__(s):s.b=bytearray()',
         ' def write(s,x):', '  s.b.extend(x)', `  if len(s.b)>=${chunk}:s.fl()`, '  return len(x)',
         ' def fl(s):', '  if s.b:L(s.b);s.b=bytearray()']
      : []),
    'def R():',
    ` b=bytearray(${chunk});v=memoryview(b)`,
    ` for i,p in enumerate(${list(paths)}):`,
    `  z=${zip ? `${pyList(o.compress)}[i]` : '0'}`,
    '  try:',
    '   if os.stat(p)[0]&0x4000:raise OSError(21)',
    '   f=open(p,"rb");n=os.stat(p)[6]',
    '  except OSError as x:',
    '   print("F",i,x.args[0]);continue',
    '  print("B",i,n,z);h=H() if H else None',
    ...(zip ? [`  if z:o=O();d=deflate.DeflateIO(o,deflate.RAW,${SEND_DEFLATE_BITS})`] : []),
    '  while 1:',
    '   k=f.readinto(b)',
    '   if not k:break',
    '   if h:h.update(v[:k])',
    ...(zip ? ['   if z:d.write(v[:k])', '   else:L(v[:k])'] : ['   L(v[:k])']),
    '  f.close()',
    ...(zip ? ['  if z:d.close();o.fl()'] : []),
    '  print("E",i,X(h.digest()).decode() if h else "-")',
    ' while F and u:K()',
    'try:R()',
    'except Ab:print("X")',
  ].join('\n');
}

const pyList = (flags: boolean[]) => `[${flags.map((f) => (f ? '1' : '0')).join(',')}]`;
