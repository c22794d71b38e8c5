# mip as the ESP32 firmware freezes it, written from the MicroPython docs (reference/packages.rst): packages from
# an index laid out as micropython-lib's (INDEX/package/MPY/NAME/VERSION.json listing files by short sha256,
# fetched from INDEX/file/HH/HASH), from a package.json URL ("urls", "deps", relative URLs), or a single .py/.mpy
# file; `github:org/repo/path@branch` and `gitlab:` short forms.
import sys
import requests

_PACKAGE_INDEX = 'https://micropython.org/pi/v2'
_URL_PREFIXES = ('http://', 'https://', 'github:', 'gitlab:')


def _makedirs(path):
    import os
    d = ''
    for part in path.split('/')[1:-1]:
        d += '/' + part
        try:
            os.stat(d)
        except OSError:
            os.mkdir(d)


def _rewrite_url(url, branch=None):
    branch = branch or 'HEAD'
    for prefix, fmt in (('github:', 'https://raw.githubusercontent.com/{}/{}/{}/{}'),
                        ('gitlab:', 'https://gitlab.com/{}/{}/-/raw/{}/{}')):
        if url.startswith(prefix):
            parts = url[len(prefix):].split('/')
            return fmt.format(parts[0], parts[1], branch, '/'.join(parts[2:]))
    return url


def _short_hash(path):
    import hashlib, binascii
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                h.update(b)
    except OSError:
        return None
    return binascii.hexlify(h.digest()).decode()[:len('01234567')]


def _download(url, dest):
    r = requests.get(url)
    try:
        if r.status_code != 200:
            print('Error', r.status_code, 'requesting', url)
            return False
        print('Copying:', dest)
        _makedirs(dest)
        with open(dest, 'wb') as f:
            f.write(r.content)
        return True
    finally:
        r.close()


def _install_json(url, index, target, version, mpy):
    r = requests.get(_rewrite_url(url, version))
    try:
        if r.status_code != 200:
            print('Package not found:', url)
            return False
        package = r.json()
    finally:
        r.close()
    base = url.rsplit('/', 1)[0]
    for path, short in package.get('hashes', ()):
        dest = target + '/' + path
        if _short_hash(dest) == short:
            print('Exists:', dest)
        elif not _download('{}/file/{}/{}'.format(index, short[:2], short), dest):
            print('File not found: {} {}'.format(path, short))
            return False
    for path, file_url in package.get('urls', ()):
        if not file_url.startswith(_URL_PREFIXES):
            file_url = base + '/' + file_url
        if not _download(_rewrite_url(file_url, version), target + '/' + path):
            print('File not found: {} {}'.format(path, file_url))
            return False
    for dep, dep_version in package.get('deps', ()):
        if not _install_package(dep, index, target, dep_version, mpy):
            return False
    return True


def _install_package(package, index, target, version, mpy):
    if package.startswith(_URL_PREFIXES):
        if '@' in package:
            package, version = package.split('@', 1)
        if package.endswith('.py') or package.endswith('.mpy'):
            print('Downloading {} to {}'.format(package, target))
            return _download(_rewrite_url(package, version), target + '/' + package.rsplit('/', 1)[-1])
        if not package.endswith('.json'):
            package = package.rstrip('/') + '/package.json'
        print('Installing {} to {}'.format(package, target))
    else:
        version = version or 'latest'
        print('Installing {} ({}) from {} to {}'.format(package, version, index, target))
        mpy_version = sys.implementation._mpy & 0xFF if mpy and hasattr(sys.implementation, '_mpy') else 'py'
        package = '{}/package/{}/{}/{}.json'.format(index, mpy_version, package, version)
    return _install_json(package, index, target, version, mpy)


def install(package, index=None, target=None, version=None, mpy=True):
    if not target:
        for p in sys.path:
            if p.endswith('/lib'):
                target = p
                break
        else:
            print('Unable to find lib dir in sys.path')
            return
    index = (index or _PACKAGE_INDEX).rstrip('/')
    if _install_package(package, index, target.rstrip('/'), version, mpy):
        print('Done')
    else:
        print('Package may be partially installed')
