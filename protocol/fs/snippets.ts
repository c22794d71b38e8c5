// Board-side Python for file operations. Each snippet is one exec (never a round trip per file), prints
// machine-readable lines, and catches OSError itself so the host gets the errno without parsing tracebacks.
// Names are printed with repr() and parsed by parsePyStr; code stays small because it travels at the baud
// rate. Snippets use only what the capability probe found (capabilities.ts), so no firmware meets code that
// assumes a module it lacks; lists are built in short statements so no project size exhausts the parser's
// stack; every line a snippet prints names what it is about, so the host can check it got the right answer.
import { BLOCKSUM_BLOCK, SHORT_DIGEST_HEX } from './digest.js';
import { escapedLength, FROM_BOARD, pyBytesLiteral, pyEscapeExpr, pyStr, TO_BOARD } from './wire.js';

/** Temp files are `.~bctmp.N` next to their target; anything with this prefix is debris of a broken upload. */
export const TEMP_PREFIX = '.~bctmp.';

/** Items per list statement: a literal's elements all sit on the VM's stack while it is built. */
const LIST_BATCH = 50;

/** `name=[...]` for any number of items, as statements of at most LIST_BATCH items. */
function pyListAssign(name: string, items: string[]): string[] {
  const out = [`${name}=[]`];
  for (let i = 0; i < items.length; i += LIST_BATCH) out.push(`${name}+=[${items.slice(i, i + LIST_BATCH).join(',')}]`);
  return out;
}

const strs = (items: string[]) => items.map(pyStr);

/**
 * A snippet run at the top level, as a function that is called and then deleted: its imports, loop variables
 * and helpers are the function's locals, so the user's globals are left as they were (only `_bc`, the helpers'
 * holder, ever stays), also when the snippet fails.
 */
export function scoped(lines: string[]): string {
  return ['def _bcS():', ...lines.map((l) => ` ${l}`), 'try:_bcS()', 'finally:del _bcS'].join('\n');
}

/** Board-side stdout escaping (FROM_BOARD in wire.ts), shared by the probe and the sender. */
const STDOUT_ESCAPE = `def E(x):return ${pyEscapeExpr(FROM_BOARD, 'x')}`;

/**
 * The digest both ends compute for a transfer (digest.ts is the host's half): class G with u(memoryview)
 * and x(n) -> text, the first n bytes of sha256 in hex when the board has hashlib (digest.ts's short digest
 * by default), else the length and a block checksum. FD(path, n) digests a file on flash.
 */
function digestDefs(hashlib: boolean): string[] {
  const cls = hashlib
    ? [
        'from hashlib import sha256',
        'class G:',
        ' def __init__(s):s.h=sha256()',
        ' def u(s,v):s.h.update(v)',
        ` def x(s,n=${SHORT_DIGEST_HEX / 2}):d=s.h.digest()[:n];return ('%02x'*n)%tuple(d)`,
      ]
    : [
        'class G:',
        ' def __init__(s):s.a=s.c=s.n=0',
        ' def u(s,v):',
        `  for j in range(0,len(v),${BLOCKSUM_BLOCK}):s.a=(s.a+sum(v[j:j+${BLOCKSUM_BLOCK}]))&16777215;s.c=(s.c+s.a)&16777215`,
        '  s.n+=len(v)',
        " def x(s,n=0):return 's%d.%d.%d'%(s.n,s.a,s.c)",
      ];
  return [
    ...cls,
    `def FD(p,n=${SHORT_DIGEST_HEX / 2}):`,
    ` g=G();f=open(p,'rb');b=bytearray(${BLOCKSUM_BLOCK});v=memoryview(b)`,
    ' while 1:',
    '  k=f.readinto(b)',
    '  if not k:break',
    '  g.u(v[:k])',
    ' f.close();return g.x(n)',
  ];
}

/** Prints the transfer digest (digest.ts's transferDigest) of the buffer the Python expression `expr` gives. */
export function bufferDigestSource(expr: string, hashlib: boolean): string {
  return scoped([...digestDefs(hashlib), 'g=G()', `g.u(${expr})`, 'print(g.x())']);
}

/** Probe tokens: modules, then features (h-ALGO: hashlib algorithms, deflate-w: DeflateIO can compress). */
export const PROBE_TOKENS = ['binascii', 'hashlib', 'deflate', 'errno', 'select', 'h-sha256', 'h-sha1', 'h-md5', 'deflate-w', 'stdin', 'statvfs', 'poll'] as const;

/**
 * Capability probe: one line `C tokens… count`, the cwd, then (given a `marker`, and if stdout has a binary
 * buffer) `marker` and every byte value escaped as the sender would, so the host (reading the link's raw
 * bytes) sees whether raw downloads arrive intact. Without a marker it is the short probe of commands that
 * move no file data (ls, sync of an unchanged tree).
 */
export function probeSource(marker?: string): string {
  return scoped([
    'import sys,os',
    'r=[]',
    "for m in ('binascii','hashlib','deflate','errno','select'):",
    ' try:x=__import__(m);r.append(m)',
    ' except ImportError:continue',
    " if m=='hashlib':r+=['h-'+a for a in ('sha256','sha1','md5') if hasattr(x,a)]",
    " if m=='deflate' and hasattr(x,'DeflateIO') and hasattr(x.DeflateIO,'write'):r.append('deflate-w')",
    "if hasattr(sys.stdin,'buffer') and hasattr(sys.stdin.buffer,'readinto'):r.append('stdin')",
    'try:',
    " if os.statvfs(os.getcwd())[0]:r.append('statvfs')",
    'except Exception:pass',
    "try:import select;p=select.poll();p.register(sys.stdin,1);p.poll(0);r.append('poll')",
    'except Exception:pass',
    "print('C',' '.join(r),len(r))",
    'print(repr(os.getcwd()))',
    ...(marker === undefined ? [] : rawPatternLines(marker)),
  ]);
}

/** Prints `marker` and every byte value escaped, where stdout has a binary buffer. */
const rawPatternLines = (marker: string) => [
  STDOUT_ESCAPE,
  `try:sys.stdout.buffer.write(b"${marker}\\n"+E(bytes(range(256)))+b"\\n")`,
  'except Exception:pass',
];

/** A look at raw stdout on its own: after the short probe, or when the probe's pattern came back wrong. */
export function rawStdoutCheckSource(marker: string): string {
  return scoped(['import sys', ...rawPatternLines(marker)]);
}

/**
 * Echo test for the stdin link. It first reads one harmless byte and says `G`, so a firmware whose stdin
 * cannot be read fails before the full pattern is sent (which would otherwise land in the raw REPL);
 * then it reads exactly the escaped pattern's length in raw bytes (every byte value, escaped as uploads are)
 * and prints `=` when they are that pattern, else what arrived in hex, so the host sees whether every byte
 * value (bar the ones we escape) arrives untouched.
 */
export function stdinEchoSource(): string {
  const n = escapedLength(ALL_BYTES, TO_BOARD);
  return scoped([
    'import sys',
    `b=bytearray(${n});v=memoryview(b);k=0;r=sys.stdin.buffer.readinto`,
    "print('R')",
    "while not r(v[:1]):pass",
    "print('G')",
    `while k<${n}:k+=r(v[k:]) or 0`,
    `print('=' if b==${pyEscapeExpr(TO_BOARD, 'range(256)')} else ''.join('%02x'%x for x in b))`,
  ]);
}

/** Every byte value, the stdin echo test's pattern before escaping. */
export const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/**
 * The listing library: X(paths, times) prints per path `F size mtime repr(path)` (a file), `E errno 0
 * repr(path)`, or `D 0 0 repr(path)`, the directory's entries, then `N count`. An entry is one short line:
 * the size (files) or `d` (directories), `,mtime` with times, then repr(name) (`1'boot.py'`, `d,774'lib'`).
 * Sizes come from ilistdir where the VFS fills them in (a stat per file otherwise, or for times). Upload
 * debris is never listed.
 */
const LIST_LIB = [
  'import os',
  `T=${pyStr(TEMP_PREFIX)}`,
  'def X(Ps,t):',
  ' for p in Ps:',
  '  try:',
  '   m=os.stat(p)',
  '   if not m[0]&0x4000:print("F",m[6],m[8] if t else 0,repr(p));continue',
  '   print("D",0,0,repr(p));n=0;q=p.rstrip("/")+"/"',
  '   for e in os.ilistdir(p):',
  '    a=e[0]',
  '    if a.startswith(T):continue',
  '    n+=1;d=e[1]&0x4000;z=e[3] if len(e)>3 else 0',
  '    if t or not(d or z>0):m=os.stat(q+a);z=m[6]',
  '    print("d" if d else z,",%d"%m[8] if t else "",repr(a),sep="")',
  '   print("N",n)',
  '  except OSError as x:print("E",x.args[0],0,repr(p))',
].join('\n');

/**
 * A list for a helper's call: inline when short, else built in a global first, in short statements, and
 * removed after the call, also when the call fails.
 */
function pyListArg(name: string, items: string[], call: (expr: string) => string): string {
  if (items.length <= LIST_BATCH) return call(`[${items.join(',')}]`);
  return [...pyListAssign(name, items), 'try:', ...call(name).split('\n').map((l) => ` ${l}`), `finally:del ${name}`].join('\n');
}

/** Listing of `paths` (see LIST_LIB); `withTimes` adds mtimes (a stat per entry). */
export function listProgram(paths: string[], withTimes: boolean): HelperProgram {
  return { lib: LIST_LIB, call: (lib) => pyListArg('_bcP', strs(paths), (ps) => `${lib}(${ps},${withTimes ? 1 : 0})`) };
}

/**
 * The walk library: X(root, sizes) prints `D`, `F size` or `E errno` first, then `d 0 repr(relpath)` / `f size
 * repr(relpath)`, parents before children, upload debris skipped; the last line is `N count` so a cut
 * listing is noticed. In its digest form, a file whose size is in the set `sizes` also gets its short digest
 * (digest.ts) at the end of its line: sync's comparison in the same run as the walk. A board without hashlib
 * says so with `D-` instead of `D` and sends no digests.
 */
function walkLib(digests: boolean): string {
  return [
    'import os',
    ...(digests ? ['try:', ...digestDefs(true).map((l) => ` ${l}`), 'except ImportError:FD=None'] : []),
    `T=${pyStr(TEMP_PREFIX)}`,
    'def W(a,r,Z):',
    ' c=0',
    ' for e in os.ilistdir(a):',
    "  m=e[0];p=a.rstrip('/')+'/'+m;q=r+'/'+m if r else m",
    '  if m.startswith(T):continue',
    '  c+=1',
    '  if e[1]&0x4000:',
    "   print('d',0,repr(q));c+=W(p,q,Z);continue",
    // ilistdir's size where the VFS fills it in, else a stat.
    '  z=e[3] if len(e)>3 else 0',
    '  if z<1:z=os.stat(p)[6]',
    ...(digests ? ["  if Z and z in Z:print('f',z,repr(q),FD(p))", "  else:print('f',z,repr(q))"] : ["  print('f',z,repr(q))"]),
    ' return c',
    'def X(t,Z):',
    ' try:',
    '  s=os.stat(t)',
    ...(digests
      ? ["  if s[0]&0x4000:print('D' if FD else 'D-');print('N',W(t,'',Z if FD else None))"]
      : ["  if s[0]&0x4000:print('D');print('N',W(t,'',None))"]),
    "  else:print('F',s[6])",
    " except OSError as x:print('E',x.args[0])",
  ].join('\n');
}

/** The walk of `root` (see walkLib), with the digests of files of `sizes` where given. */
export function walkProgram(root: string, sizes?: number[]): HelperProgram {
  const distinct = [...new Set(sizes)].map(String);
  return {
    lib: walkLib(sizes !== undefined),
    call: (lib) => (sizes ? pyListArg('_bcZ', distinct, (z) => `${lib}(${pyStr(root)},set(${z}))`) : `${lib}(${pyStr(root)},None)`),
  };
}

/**
 * Batched path operations; each path prints `OK i result` or `E i errno`. `same` takes a size with each path
 * and answers the file's short digest where it is a file of that size, `-` otherwise (cp's check for unchanged
 * files: only same-size files are read).
 */
export type PathOp = 'stat' | 'remove' | 'removeTree' | 'mkdir' | 'mkdirParents' | 'rmdir' | 'touch' | 'digest' | 'same';

const OP_BODY: Record<PathOp, string[]> = {
  stat: [' m=os.stat(p);return ("d " if m[0]&0x4000 else "f ")+str(m[6])'],
  remove: [' if os.stat(p)[0]&0x4000:raise OSError(21)', ' os.remove(p)'],
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
  touch: [' try:os.stat(p)', " except OSError:open(p,'wb').close()"],
  digest: [' if os.stat(p)[0]&0x4000:raise OSError(21)', ' return FD(p,32)'],
  same: [' p,z=p', ' m=os.stat(p)', " if m[0]&0x4000 or m[6]!=z:return '-'", ' return FD(p)'],
};

/**
 * `hashlib` matters only to the digests: which one the board computes (see digest.ts). `sizes` go with the
 * paths of `same`, one each.
 */
export function pathOpSource(op: PathOp, paths: string[], hashlib = true, sizes?: number[]): string {
  const helpers =
    op === 'removeTree'
      ? [
          'def Z(p):',
          ' if os.stat(p)[0]&0x4000:',
          "  for e in os.ilistdir(p):Z(p.rstrip('/')+'/'+e[0])",
          "  if p!='/':os.rmdir(p)",
          ' else:os.remove(p)',
        ]
      : op === 'digest' || op === 'same'
        ? digestDefs(hashlib)
        : [];
  return scoped([
    'import os',
    ...helpers,
    'def O(p):',
    ...OP_BODY[op],
    ...pyListAssign('Ps', sizes ? paths.map((p, i) => `(${pyStr(p)},${sizes[i]})`) : strs(paths)),
    'for i,p in enumerate(Ps):',
    ' try:r=O(p)',
    " except OSError as x:print('E',i,x.args[0]);continue",
    " print('OK',i,r or '')",
  ]);
}

/** statvfs of a path: block size, total, free, available blocks. */
export function statvfsSource(path: string): string {
  return scoped([
    'import os',
    'try:',
    // statvfs of a path that does not exist reports its mount's filesystem (the VFS does not look): stat first.
    ` p=${pyStr(path)};os.stat(p);s=os.statvfs(p);m=p`,
    // The mount point holding p, where the firmware can list its mounts (vfs, v1.23 on); else p itself.
    ' try:',
    '  import vfs',
    "  m=max([t[1] for t in vfs.mount() if p==t[1] or p.startswith(t[1].rstrip('/')+'/')],key=len)",
    ' except Exception:pass',
    " print('V',s[0],s[1] or s[0],s[2],s[3],s[4],m)",
    "except OSError as x:print('E',x.args[0])",
  ]);
}

/** One file to receive: target path, wire length, final size, expected digest (digest.ts), mode. */
export interface ReceiverEntry {
  dest: string;
  wireLength: number;
  size: number;
  digest: string;
  mode: ReceiverMode;
}

/** 0: escaped raw bytes; 1: escaped raw deflate stream; 2: base64 text. */
export type ReceiverMode = 0 | 1 | 2;

/** Deflate window the host compresses with (the board allocates 2^bits bytes to inflate). */
export const DEFLATE_WINDOW_BITS = 12;

/**
 * A helper as a library, loaded once per connection (helper.ts wraps `lib` in a function named after its
 * hash, so libraries never meet each other's names, and keeps the function X it defines), and the call
 * that uses it, given that function's name.
 */
export interface HelperProgram {
  lib: string;
  call: (lib: string) => string;
}

/** What the upload programs need to know about the board and the link. */
export interface UploadSetup {
  /** The data comes on stdin (the receiver R); otherwise as exec'd chunks (the O/W/F/A steps). */
  stdin: boolean;
  hashlib: boolean;
  /** DeflateIO can decompress: mode 1 is understood. */
  inflate: boolean;
  /** binascii is there: mode 2 (base64) is understood. */
  base64: boolean;
  /** The board can poll its stdin, so the receiver gives up by itself when the host goes quiet. */
  poll: boolean;
  /** The receiver's own give-up time (ms): longer than the host's, which should act first. */
  boardIdleMs: number;
  /** Wire bytes per acknowledged window. */
  window: number;
}

/**
 * The upload library. P() checks free space for the manifest M before anything is written (as the board
 * will use it: files replaced one at a time, small files inline in littlefs metadata), creates the
 * directories Dm and clears upload debris in the target directories; TP(i) is file i's temp path; V(i,e)
 * checks a finished temp file's size and digest on flash and renames it over the target, printing
 * `F i result repr(dest) digest` (result: 0, an errno, -1 digest mismatch, -2 size mismatch), so the host
 * sees which file and which bytes the board checked.
 * R() is the receiver. Protocol, all on the program's stdin/stdout:
 * - prints `S 0 avail` when it has room (or `S need avail` and stops before writing anything);
 * - reads each file's wire bytes in pieces that never cross a window boundary, writes them to a temp file
 *   next to the target, and after each full window of W wire bytes prints `A` (the host keeps one window
 *   in flight ahead of the acknowledged position);
 * - per file prints its F line; data that does not decode (the link damaged it) fails that file with -1
 *   and the rest of its bytes are still read, so the stream stays in step;
 * - on the host's abort marker it removes the temp file and prints `X`; when the stream breaks (a bare
 *   Ctrl-C arriving as data on ports whose stdin does not raise KeyboardInterrupt, end of input, or, where
 *   stdin can be polled, a quiet host) it does the same and prints `XD`.
 */
export function uploadLib(setup: UploadSetup): string {
  return [
    'import sys,os',
    'M=Dm=_f=None',
    ...digestDefs(setup.hashlib),
    `T=${pyStr(TEMP_PREFIX)}`,
    'def Q(p):',
    ' try:os.remove(p)',
    ' except OSError:pass',
    'def TP(i):',
    ' d=M[i][0];j=d.rfind("/");return d[:j+1]+T+str(i)',
    'def P():',
    ' p=M[0][0];A=-1;K=4096',
    ' while p:',
    '  p=p[:p.rfind("/")]',
    '  try:s=os.statvfs(p or "/");K=s[0];A=K*s[4];break',
    '  except OSError:pass',
    ' if K<1:K=4096;A=-1',
    ' def B(n,d):return 2*(n+len(d)+24) if n<=K//8 else (n+K-1)//K*K',
    ' N=D=0',
    ' for m in M:',
    '  try:o=os.stat(m[0])[6]',
    '  except OSError:o=-1',
    '  n=B(m[2],m[0]);N=max(N,D+n);D+=n-(B(o,m[0]) if o>=0 else 0)',
    ' if A>=0 and N>A:return N,A',
    ' for d in Dm:',
    '  try:os.mkdir(d)',
    '  except OSError:pass',
    ' for d in set(m[0][:m[0].rfind("/")] or "/" for m in M):',
    '  try:',
    '   for e in os.ilistdir(d):',
    '    if e[0].startswith(T):Q(d.rstrip("/")+"/"+e[0])',
    '  except OSError:pass',
    ' return 0,A',
    'def V(i,e):',
    ' d,L,n,h,z=M[i];t=TP(i);g="-"',
    ' if not e:',
    '  try:',
    '   if os.stat(t)[6]!=n:e=-2',
    '   else:',
    '    g=FD(t)',
    '    if g!=h:e=-1',
    '  except OSError as x:e=x.args[0]',
    ' if not e:',
    '  try:os.rename(t,d)',
    '  except OSError:',
    '   try:os.remove(d);os.rename(t,d)',
    '   except OSError as x:e=x.args[0]',
    ' if e:Q(t)',
    // One write: each of print's arguments is a stdout write of its own, each a flush on the virtual board.
    ' print("F %d %d %r %s"%(i,e,d,g))',
    ...(setup.stdin ? receiverLines(setup) : []),
    // The entry point: R receives a batch, P only checks space (exec fallback), O/W/F/A open, write,
    // finish and abandon one file's temp file in that fallback.
    'def X(op,*a):',
    ' nonlocal M,Dm,_f',
    ...(setup.stdin
      ? [' if op=="R":M,Dm=a;R()']
      : [
          ' if op=="P":M,Dm=a;print("S",*P())',
          ' elif op=="O":',
          '  try:_f=open(TP(a[0]),"wb");print("OK")',
          '  except OSError as x:print("E",x.args[0])',
          ' elif op=="W":_f.write(a[0])',
          ' elif op=="F":_f.close();V(a[0],0)',
          ' elif op=="A":_f.close();Q(TP(a[0]))',
        ]),
  ].join('\n');
}

/** The stdin receiver R of uploadLib (see there), with the decoders the setup asks for. */
function receiverLines(setup: UploadSetup): string[] {
  return [
    ...(setup.inflate
      ? ['import io,deflate', 'class Z(io.IOBase):', ' def __init__(s,i):s.i=i;s.r=b""',
         ' def readinto(s,o):', '  if not s.r:s.r=next(s.i,b"")', '  n=min(len(o),len(s.r));o[:n]=s.r[:n];s.r=s.r[n:];return n',
         'def I(y):', ' o=bytearray(1024)', ' while 1:', '  k=y.readinto(o)', '  if not k:return', '  yield o[:k]']
      : []),
    ...(setup.base64 ? ['from binascii import a2b_base64 as B'] : []),
    // Ab: the host asked to stop; Bk: the stream broke (a stray control byte, end of input, a quiet host).
    'class Ab(Exception):pass',
    'class Bk(Exception):pass',
    `W=${setup.window}`,
    ...(setup.poll ? ['import select', 'Pl=select.poll();Pl.register(sys.stdin,1)'] : []),
    'def ri(x):',
    ...(setup.poll ? [` if not Pl.poll(${setup.boardIdleMs}):raise Bk`] : []),
    ' try:return sys.stdin.buffer.readinto(x)',
    ' except EOFError:raise Bk',
    'def R():',
    ' S=P();print("S",*S)',
    ' if S[0]:return',
    ' w=sys.stdout.write',
    ' b=bytearray(W);v=memoryview(b);g=0;c=0',
    ' def U(s):',
    '  nonlocal c',
    '  if not c and 27 not in s:return s',
    '  p=s.split(b"\\x1b")',
    '  if c:',
    '   if not p[0]:raise Bk',
    '   if p[0][0]==65:raise Ab',
    '   p[0]=bytes((p[0][0]^64,))+p[0][1:]',
    '  c=0',
    '  if not p[-1]:c=1;p.pop()',
    '  for i in range(1,len(p)):',
    '   q=p[i]',
    '   if not q:raise Bk',
    '   if q[0]==65:raise Ab',
    '   p[i]=bytes((q[0]^64,))+q[1:]',
    '  return b"".join(p)',
    ' def C(L,z):',
    '  nonlocal g',
    '  while L:',
    '   k=min(W-g%W,L);j=0',
    '   while j<k:',
    '    n=ri(v[j:k]) or 0',
    '    if 3 in bytes(v[j:j+n]):raise Bk',
    '    j+=n',
    '   s=bytes(v[:k])',
    '   if z<2:yield U(s)',
    '   elif 33 in s:raise Ab',
    '   else:yield s',
    '   L-=k;g+=k',
    '   if g%W==0:w("A")',
    ' for i in range(len(M)):',
    '  L,z=M[i][1],M[i][4];t=TP(i);e=0;f=None',
    '  try:',
    '   try:f=open(t,"wb")',
    '   except OSError as x:e=x.args[0]',
    '   r=C(L,z);it=r',
    ...(setup.inflate ? [`   if z==1:it=I(deflate.DeflateIO(Z(r),deflate.RAW,${DEFLATE_WINDOW_BITS}))`] : []),
    ...(setup.base64 ? ['   if z==2:it=(B(x) for x in r)'] : []),
    '   try:',
    '    for x in it:',
    '     if f:',
    '      try:f.write(x)',
    '      except OSError as y:e=y.args[0];f.close();f=None',
    '   except (Ab,Bk):raise',
    // Data that does not decode (base64, deflate) was damaged on the way; anything else is a real error.
    '   except (ValueError,OSError,EOFError):e=e or -1',
    '   for x in r:pass',
    '  except (Ab,Bk) as a:',
    '   if f:f.close()',
    '   Q(t);print("X" if isinstance(a,Ab) else "XD");return',
    '  except BaseException:',
    '   if f:f.close()',
    '   Q(t);raise',
    '  if f:f.close()',
    '  V(i,e)',
  ];
}

/** Call uploadLib's entry with a batch's manifest and directories (built in short statements). */
function uploadCall(op: 'R' | 'P', entries: ReceiverEntry[], dirs: string[]): (lib: string) => string {
  const manifest = entries.map((e) => `(${pyStr(e.dest)},${e.wireLength},${e.size},${pyStr(e.digest)},${e.mode})`);
  return (lib) => pyListArg('_bcM', manifest, (m) => pyListArg('_bcD', strs(dirs), (d) => `${lib}("${op}",${m},${d})`));
}

/** The receiver for one batch (see uploadLib). */
export function receiverProgram(entries: ReceiverEntry[], dirs: string[], setup: UploadSetup): HelperProgram {
  return { lib: uploadLib(setup), call: uploadCall('R', entries, dirs) };
}

/** Exec fallback, step 1: the manifest plus the space check (`S need avail`). */
export function execUploadBegin(entries: ReceiverEntry[], dirs: string[], setup: UploadSetup): HelperProgram {
  return { lib: uploadLib(setup), call: uploadCall('P', entries, dirs) };
}

/** Exec fallback, one step on file `index` (O open, F finish, A abandon) or a chunk of its data (W). */
export function execUploadStep(setup: UploadSetup, op: 'O' | 'F' | 'A', index: number): HelperProgram;
export function execUploadStep(setup: UploadSetup, op: 'W', data: Uint8Array): HelperProgram;
export function execUploadStep(setup: UploadSetup, op: 'O' | 'F' | 'A' | 'W', arg: number | Uint8Array): HelperProgram {
  const value = typeof arg === 'number' ? String(arg) : pyBytesLiteral(arg);
  return { lib: uploadLib(setup), call: (lib) => `${lib}("${op}",${value})` };
}

/** Deflate window the board compresses downloads with (small: it is board RAM). */
export const SEND_DEFLATE_BITS = 10;

export interface SenderSetup {
  /** File bytes per data line (a multiple of the digest block). */
  chunk: number;
  /** DeflateIO can compress: files flagged in the call go through deflate on the board. */
  deflate: boolean;
  /** Wait for the host's answer to each data line (needs a readable stdin). */
  flow: boolean;
  /** Escaped raw bytes through sys.stdout.buffer; otherwise base64 text. */
  raw: boolean;
  hashlib: boolean;
  /** Where stdin can be polled, the sender gives up on a host that stops answering for this long (ms). */
  pollMs?: number;
}

/**
 * The download sender: X(paths, flags, marker) prints the marker, then per file `B i size z repr(path)`, data lines
 * `D` + payload, then `E i digest`; a failing file prints `F i errno` instead. The payload is the chunk
 * escaped (FROM_BOARD: no Ctrl-D, LF or CR survives raw) or, for firmware without a binary stdout, base64.
 * Files flagged go through deflate on the board first (z=1: the lines carry a raw deflate stream).
 * With `flow`, the host answers every data line with one stdin byte: `A` to go on, `X` to stop (the sender
 * then prints `X` and ends; an answer the link damaged or lost ends it with `XD`). The sender stays at most one line ahead of the host's answers, so
 * it never floods a UART and an abort needs no Ctrl-C; before ending it reads every answer it is owed, so
 * no byte is left over for the raw REPL.
 */
export function senderLib(o: SenderSetup): string {
  const { chunk } = o;
  return [
    'import sys,os',
    ...(o.raw
      ? [STDOUT_ESCAPE, 'Y=sys.stdout.buffer.write', 'def D(x):Y(b"D"+E(x)+b"\\n")']
      : ['from binascii import b2a_base64 as B', 'def D(x):sys.stdout.write("D"+B(x).decode())']),
    ...digestDefs(o.hashlib),
    'class Ab(Exception):pass',
    'class Bk(Exception):pass',
    `F=${o.flow ? 1 : 0};u=0;Ps=Zf=None`,
    ...(o.flow && o.pollMs ? ['import select', 'Pl=select.poll();Pl.register(sys.stdin,1)'] : []),
    'def K():',
    ' nonlocal u',
    ...(o.flow && o.pollMs ? [` if not Pl.poll(${o.pollMs}):raise Bk`] : []),
    ' try:c=sys.stdin.buffer.read(1)',
    ' except EOFError:raise Bk',
    ' u-=1',
    ' if c==b"X":raise Ab',
    ' if c!=b"A":raise Bk',
    'def L(x):',
    ' nonlocal u',
    ' D(x);u+=1',
    ' if F and u>1:K()',
    ...(o.deflate
      ? ['import io,deflate', 'class O(io.IOBase):', ' def __init__(s):s.b=bytearray()',
         ' def write(s,x):', '  s.b.extend(x)', `  if len(s.b)>=${chunk}:s.fl()`, '  return len(x)',
         ' def fl(s):', '  if s.b:L(s.b);s.b=bytearray()']
      : []),
    'def R():',
    ` b=bytearray(${chunk});v=memoryview(b)`,
    ' for i,p in enumerate(Ps):',
    '  z=Zf[i]-48',
    '  try:',
    '   if os.stat(p)[0]&0x4000:raise OSError(21)',
    '   f=open(p,"rb");n=os.stat(p)[6]',
    '  except OSError as x:',
    '   print("F",i,x.args[0]);continue',
    '  print("B",i,n,z,repr(p));h=G()',
    ...(o.deflate ? [`  if z:o=O();d=deflate.DeflateIO(o,deflate.RAW,${SEND_DEFLATE_BITS})`] : []),
    '  while 1:',
    '   k=f.readinto(b)',
    '   if not k:break',
    '   h.u(v[:k])',
    ...(o.deflate ? ['   if z:d.write(v[:k])', '   else:L(v[:k])'] : ['   L(v[:k])']),
    '  f.close()',
    ...(o.deflate ? ['  if z:d.close();o.fl()'] : []),
    '  print("E",i,h.x())',
    ' while F and u>0:K()',
    'def X(ps,zf,mk):',
    ' nonlocal u,Ps,Zf',
    ' u=0;Ps=ps;Zf=zf;print(mk)',
    ' try:R()',
    ' except Ab:print("X")',
    ' except Bk:print("XD")',
  ].join('\n');
}

/** The sender for one batch: `compress` flags per path (only honoured where the lib can deflate). */
export function senderProgram(paths: string[], compress: boolean[], marker: string, setup: SenderSetup): HelperProgram {
  return {
    lib: senderLib(setup),
    call: (lib) => pyListArg('_bcP', strs(paths), (ps) => `${lib}(${ps},${pyFlags(compress)},${pyStr(marker)})`),
  };
}

/** Per-path 0/1 flags as a bytes literal (short on the wire, indexable to ints). */
const pyFlags = (flags: boolean[]) => `b'${flags.map((f) => (f ? '1' : '0')).join('')}'`;
