# cryptolib.aes as the ESP32 port builds it (ECB, CBC and CTR, with the MODE_* constants), written from the
# MicroPython docs (library/cryptolib.rst) and FIPS-197 (the cipher) / SP 800-38A (the modes).
from micropython import const

MODE_ECB = const(1)
MODE_CBC = const(2)
MODE_CTR = const(6)


def _tables():
    # The S-box from its definition: the inverse in GF(2^8) followed by the affine map.
    exp = bytearray(256)
    log = bytearray(256)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x ^= (x << 1) ^ (0x1B if x & 0x80 else 0)
        x &= 0xFF
    sbox = bytearray(256)
    inv = bytearray(256)
    for a in range(256):
        b = exp[(255 - log[a]) % 255] if a else 0
        s = b
        for _ in range(4):
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        s ^= 0x63
        sbox[a] = s
        inv[s] = a
    return sbox, inv


_SBOX, _INV = _tables()


def _xt(b):
    b <<= 1
    return (b ^ 0x11B) if b & 0x100 else b


def _mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xt(a)
        b >>= 1
    return r


def _expand(key):
    nk = len(key) // 4
    rounds = nk + 6
    w = bytearray(key)
    rcon = 1
    i = nk
    while len(w) < 16 * (rounds + 1):
        t = w[-4:]
        if i % nk == 0:
            t = bytearray((_SBOX[t[1]] ^ rcon, _SBOX[t[2]], _SBOX[t[3]], _SBOX[t[0]]))
            rcon = _xt(rcon)
        elif nk > 6 and i % nk == 4:
            t = bytearray(_SBOX[b] for b in t)
        for j in range(4):
            w.append(w[-4 * nk] ^ t[j])
        i += 1
    return w, rounds


def _encrypt(w, rounds, blk):
    s = bytearray(blk[i] ^ w[i] for i in range(16))
    for r in range(1, rounds + 1):
        # SubBytes and ShiftRows (state is column-major: s[4*c + row]).
        t = bytearray(_SBOX[s[(i + 4 * (i % 4)) % 16]] for i in range(16))
        if r != rounds:
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = t[c], t[c + 1], t[c + 2], t[c + 3]
                x = a0 ^ a1 ^ a2 ^ a3
                t[c] ^= x ^ _xt(a0 ^ a1)
                t[c + 1] ^= x ^ _xt(a1 ^ a2)
                t[c + 2] ^= x ^ _xt(a2 ^ a3)
                t[c + 3] ^= x ^ _xt(a3 ^ a0)
        k = 16 * r
        s = bytearray(t[i] ^ w[k + i] for i in range(16))
    return s


def _decrypt(w, rounds, blk):
    k = 16 * rounds
    s = bytearray(blk[i] ^ w[k + i] for i in range(16))
    for r in range(rounds - 1, -1, -1):
        # InvShiftRows and InvSubBytes, then AddRoundKey and (but last) InvMixColumns.
        t = bytearray(16)
        for i in range(16):
            t[(i + 4 * (i % 4)) % 16] = _INV[s[i]]
        k = 16 * r
        for i in range(16):
            t[i] ^= w[k + i]
        if r:
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = t[c], t[c + 1], t[c + 2], t[c + 3]
                t[c] = _mul(a0, 14) ^ _mul(a1, 11) ^ _mul(a2, 13) ^ _mul(a3, 9)
                t[c + 1] = _mul(a0, 9) ^ _mul(a1, 14) ^ _mul(a2, 11) ^ _mul(a3, 13)
                t[c + 2] = _mul(a0, 13) ^ _mul(a1, 9) ^ _mul(a2, 14) ^ _mul(a3, 11)
                t[c + 3] = _mul(a0, 11) ^ _mul(a1, 13) ^ _mul(a2, 9) ^ _mul(a3, 14)
        s = t
    return s


class aes:
    def __init__(self, key, mode, IV=None):
        if len(key) not in (16, 24, 32):
            raise ValueError('key')
        if mode not in (MODE_ECB, MODE_CBC, MODE_CTR):
            raise ValueError('mode')
        if mode != MODE_ECB and (IV is None or len(IV) != 16):
            raise ValueError('IV')
        self._w, self._rounds = _expand(bytes(key))
        self._mode = mode
        self._iv = bytearray(IV) if IV is not None else None
        self._dir = 0  # an object encrypts or decrypts, not both (as the firmware's)
        self._ks = b''

    def _start(self, d):
        if self._dir and self._dir != d:
            raise OSError('can\'t encrypt & decrypt')
        self._dir = d

    def _run(self, data, out, d):
        self._start(d)
        data = bytes(data)
        n = len(data)
        if self._mode != MODE_CTR and n % 16:
            raise ValueError('blksize % 16')
        res = bytearray(n)
        if self._mode == MODE_CTR:
            for i in range(n):
                if not self._ks:
                    self._ks = _encrypt(self._w, self._rounds, self._iv)
                    for j in range(15, -1, -1):
                        self._iv[j] = (self._iv[j] + 1) & 0xFF
                        if self._iv[j]:
                            break
                res[i] = data[i] ^ self._ks[0]
                self._ks = self._ks[1:]
        else:
            for o in range(0, n, 16):
                blk = data[o:o + 16]
                if d == 1:
                    if self._mode == MODE_CBC:
                        blk = bytes(blk[i] ^ self._iv[i] for i in range(16))
                    c = _encrypt(self._w, self._rounds, blk)
                    if self._mode == MODE_CBC:
                        self._iv = c
                else:
                    c = _decrypt(self._w, self._rounds, blk)
                    if self._mode == MODE_CBC:
                        c = bytearray(c[i] ^ self._iv[i] for i in range(16))
                        self._iv = bytearray(blk)
                res[o:o + 16] = c
        if out is None:
            return bytes(res)
        out[:n] = res

    def encrypt(self, in_buf, out_buf=None):
        return self._run(in_buf, out_buf, 1)

    def decrypt(self, in_buf, out_buf=None):
        return self._run(in_buf, out_buf, 1 if self._mode == MODE_CTR else 2)
