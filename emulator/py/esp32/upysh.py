# A minimal shell for the REPL, as the ESP32 firmware freezes it: `from upysh import *`, then `ls`, `pwd`,
# `cd('dir')`, `cat('f')`, `head('f', 5)`, `mkdir`, `rm`, `mv`, `cp`, `newfile`, `rmdir`, `clear`, `man`.
# Written from the module's described behaviour; bare names (ls, pwd, clear, man) act through their repr.
import os


class _Cmd:
    def __repr__(self):
        self()
        return ''


class _Ls(_Cmd):
    def __call__(self, path='.'):
        entries = sorted(os.ilistdir(path), key=lambda e: (e[1] != 0x4000, e[0]))
        for e in entries:
            if e[1] == 0x4000:
                print('   <dir> %s' % e[0])
            else:
                print('% 8d %s' % (e[3] if len(e) > 3 else os.stat(path.rstrip('/') + '/' + e[0])[6], e[0]))


class _Pwd(_Cmd):
    def __call__(self):
        print(os.getcwd())


class _Clear(_Cmd):
    def __call__(self):
        print('\x1b[2J\x1b[H', end='')


class _Man(_Cmd):
    def __call__(self):
        print("""
upysh is intended to be imported using:
from upysh import *

To see this help text again, type "man".

upysh commands:
clear, ls, ls(...), head(...), cat(...), newfile(...)
cp('src', 'dest'), mv('old', 'new'), rm(...)
pwd, cd(...), mkdir(...), rmdir(...)
""")


ls = _Ls()
pwd = _Pwd()
clear = _Clear()
man = _Man()


def cd(path='/'):
    os.chdir(path)


def head(path, n=10):
    with open(path) as f:
        for _ in range(n):
            line = f.readline()
            if not line:
                break
            print(line, end='')


def cat(path):
    head(path, 1 << 30)


def newfile(path):
    print("Type file contents line by line, finish with EOF (Ctrl+D).")
    with open(path, 'w') as f:
        while True:
            try:
                line = input()
            except EOFError:
                break
            f.write(line + '\n')


def cp(src, dest):
    with open(src, 'rb') as s, open(dest, 'wb') as d:
        while True:
            chunk = s.read(512)
            if not chunk:
                break
            d.write(chunk)


def mv(old, new):
    os.rename(old, new)


def rm(path):
    os.remove(path)


def mkdir(path):
    os.mkdir(path)


def rmdir(path):
    os.rmdir(path)


man()
