# Changes to the VM's own objects where MicroPython has no API for them: the builtin modules' contents (sys.platform,
# os.uname, time.sleep, no VfsPosix), a new attrtuple, a traceback without the runtime's frames. The builtin
# modules keep being the real ones (`sys.x = 1` fails, `from os import nothing` raises ImportError), only their
# tables change. The layouts are MicroPython v1.27.0's on wasm32 with MICROPY_OBJ_REPR_A, the VM package's build
# (test/board-identity.test.ts checks every use):
#   any object     word 0: its type
#   module         word 1: its globals dict
#   dict           word 1: map flags (bit 0 keys are qstrs, 1 fixed, 2 ordered) and used (bits 3..), 2: alloc,
#                  3: table, two words (key, value) an entry
#   tuple          word 1: len, then the items; an attrtuple has a pointer to its field names (qstr numbers)
#                  after them
#   list           word 3: items pointer
#   exception      word 1: traceback alloc (low 16 bits) and length in words (high 16), 2: traceback data,
#                  three words a frame: file qstr, line, block qstr
#   qstr object    (qstr << 3) | 2
#   function       word 1: its module context (word 1 the globals, 2 the qstr table: 16-bit qstrs, the first
#                  the file name tracebacks give)
#   bound method   word 1: the function, 2: the object it is bound to
#   bytes          word 2: len, 3: data pointer
#   code           (compile()'s) word 2: the table of the compiled source's constant objects, those of its module
#                  code first, in the order of their first use
#   type           word 1: flags (low 16 bits), name qstr (high 16); bytes 8..19: slot indices (1-based, 0 none:
#                  make_new, print, call, unary_op, binary_op, attr, subscr, iter, buffer, protocol, parent,
#                  locals_dict), then the slots, a word each
# Everything written into a table or an object outside the heap is kept alive through `keep`: the GC does not
# look into the firmware's own tables.
import struct
import uctypes

keep = []  # the runtime hands it to the host, which holds on to it


def peek(addr):
    return struct.unpack('<I', uctypes.bytearray_at(addr, 4))[0]


def poke(addr, value):
    struct.pack_into('<I', uctypes.bytearray_at(addr, 4), 0, value & 0xFFFFFFFF)


def word(obj):
    return id(obj) & 0xFFFFFFFF


class _Names:
    pass


def qstr(s):
    # The interned form of s: an attribute name is always a qstr.
    o = _Names()
    setattr(o, s, None)
    for k in o.__dict__:
        return k


def qstr_number(s):
    return word(qstr(s)) >> 3


def _alloc(nwords):
    buf = bytearray(4 * nwords)
    keep.append(buf)
    return uctypes.addressof(buf)


def object_at(addr):
    # A reference to the object at addr, through a list whose item pointer is rewritten.
    box = [None]
    poke(peek(id(box) + 12), addr)
    return box[0]


def entries(d):
    # (key word, value word) of a dict, module dict or type's locals.
    n = peek(id(d) + 4) >> 3
    table = peek(id(d) + 12)
    return [(peek(table + 8 * i), peek(table + 8 * i + 4)) for i in range(n)]


def set_entries(d, names, drop=()):
    # d with the entries of `names` (name -> object) replaced or added and those in `drop` removed. The keys stay
    # qstrs, the map stays ordered.
    new = {word(qstr(k)): v for k, v in names.items()}
    gone = set(word(qstr(k)) for k in drop)
    rows = []
    for k, v in entries(d):
        if k in gone:
            continue
        if k in new:
            v = word(new.pop(k))
        rows.append((k, v))
    rows += [(k, word(v)) for k, v in new.items()]
    for v in names.values():
        keep.append(v)
    _set_rows(d, rows)


def set_items(d, items):
    # d holding exactly `items` ((key, value) objects, in order): a firmware dict whose keys are not names.
    for kv in items:
        keep.append(kv)
    _set_rows(d, [(word(k), word(v)) for k, v in items])


def _set_rows(d, rows):
    # d's table replaced by a new one of (key word, value word) rows (a fixed map cannot grow in place).
    table = _alloc(2 * len(rows))
    for i, (k, v) in enumerate(rows):
        poke(table + 8 * i, k)
        poke(table + 8 * i + 4, v)
    a = id(d)
    poke(a + 12, table)
    poke(a + 8, len(rows))
    poke(a + 4, (peek(a + 4) & 7) | (len(rows) << 3))


def own_locals(obj, names):
    # obj's type with a locals dict of its own (the firmware's may be shared with other types): a copy of the old
    # one with the entries of `names` (name -> object) replaced or added.
    t = peek(id(obj))
    i = uctypes.bytearray_at(t + 19, 1)[0]
    slot = t + 20 + 4 * (i - 1)
    d = {object_at(k): object_at(v) for k, v in entries(object_at(peek(slot)))}
    d.update(names)
    keep.append(d)
    poke(slot, word(d))


def attrtuple(like, fields, values):
    # A new attrtuple of the same type as `like` (e.g. sys.implementation): fields and values as given.
    n = len(values)
    names = _alloc(n)
    for i, f in enumerate(fields):
        poke(names + 4 * i, qstr_number(f))
    obj = _alloc(3 + n)
    poke(obj, peek(id(like)))
    poke(obj + 4, n)
    for i, v in enumerate(values):
        keep.append(v)
        poke(obj + 8 + 4 * i, word(v))
    poke(obj + 8 + 4 * n, names)
    return object_at(obj)


def set_item(tup, i, value):
    # Replace item i of a tuple in place (an attrtuple of the firmware, as sys.implementation).
    keep.append(value)
    poke(id(tup) + 8 + 4 * i, word(value))


_as_c = {}  # a function type -> its copy that prints as the firmware's C functions


def as_builtin(f):
    # f (a Python function or closure standing in for a firmware C function) printing as those do, `<function>`:
    # its type becomes a copy of its own named 'function' with no print slot. Calls, binding and attributes go
    # through the same slots as before.
    t = peek(id(f))
    c = _as_c.get(t)
    if c is None:
        slots = max(uctypes.bytearray_at(t + 8, 12))
        c = _alloc(5 + slots)
        uctypes.bytearray_at(c, 20 + 4 * slots)[:] = uctypes.bytearray_at(t, 20 + 4 * slots)
        struct.pack_into('<H', uctypes.bytearray_at(c + 6, 2), 0, qstr_number('function'))
        uctypes.bytearray_at(c + 9, 1)[0] = 0
        _as_c[t] = c
    poke(id(f), c)
    return f


def globals_of(f):
    # The globals of the module a plain Python function was compiled in (its context's dict).
    return object_at(peek(peek(id(f) + 4) + 4))


def rename_source(f, name):
    # The file name tracebacks give for the code of f's module, from now on. False if its qstr cannot be put in
    # the table's 16 bits.
    n = qstr_number(name)
    if n > 0xFFFF:
        return False
    struct.pack_into('<H', uctypes.bytearray_at(peek(peek(id(f) + 4) + 8), 2), 0, n)
    return True


def drop_frames(exc, files):
    # Remove the frames whose file is one of `files` (qstr numbers) from exc's traceback, so an exception leaving
    # the runtime looks as if it came from the firmware's C code.
    a = id(exc)
    head = peek(a + 4)
    data = peek(a + 8)
    n = 0
    for i in range(0, head >> 16, 3):
        if peek(data + 4 * i) not in files:
            for k in range(3):
                poke(data + 4 * (n + k), peek(data + 4 * (i + k)))
            n += 3
    poke(a + 4, (head & 0xFFFF) | (n << 16))


def bound_parts(m):
    # The function and the object of a bound method.
    return object_at(peek(id(m) + 4)), object_at(peek(id(m) + 8))


def bind_constants(code, objs):
    # The constants of compiled code that are the bytes literals of `objs` (literal -> object) made those objects,
    # for the code and everything defined in it. The table has no length of its own: it is read only up to the
    # last literal found, so every one must be among the constants.
    table = peek(id(code) + 8)
    bytes_type = peek(id(b''))
    left = dict(objs)
    while left:
        w = peek(table)
        if w & 3 == 0 and peek(w) == bytes_type:
            v = left.pop(bytes(uctypes.bytearray_at(peek(w + 12), peek(w + 8))), None)
            if v is not None:
                poke(table, word(v))
        table += 4


def frame_count(exc):
    # How many frames exc's traceback holds (a built-in exception raised by C code and caught at once: none).
    return (peek(id(exc) + 4) >> 16) // 3
