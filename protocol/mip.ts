// Host-side mip (mpremote's `mip install`): what to copy to the board for a package, fetched on the host from an
// index laid out as micropython-lib's (INDEX/package/MPY/NAME/VERSION.json, files at INDEX/file/HH/HASH), a
// package.json URL (`urls`, `deps`, relative URLs) or a single .py/.mpy file, with the `github:` / `gitlab:`
// short forms. Pure: the caller gives the fetcher and copies the files.
import { BoardError } from './errors.js';

export const DEFAULT_INDEX = 'https://micropython.org/pi/v2';
const URL_PREFIXES = ['http://', 'https://', 'github:', 'gitlab:'];

export interface MipOptions {
  index?: string;
  /** Board folder the package goes to (default /lib). */
  target?: string;
  version?: string;
  /** The board's .mpy version (sys.implementation._mpy & 0xff), or 'py' for source files (--no-mpy). */
  mpy: number | 'py';
}

/** GET a URL: its status and body. */
export type Fetcher = (url: string) => Promise<{ status: number; body: Uint8Array }>;

export interface MipFile {
  dest: string;
  data: Uint8Array;
}

const isUrl = (s: string) => URL_PREFIXES.some((p) => s.startsWith(p));

/** `github:org/repo/path` and `gitlab:org/repo/path` as raw-file URLs at `branch` (default HEAD). */
export function rewriteUrl(url: string, branch = 'HEAD'): string {
  const forms: Array<[string, (org: string, repo: string, path: string) => string]> = [
    ['github:', (o, r, p) => `https://raw.githubusercontent.com/${o}/${r}/${branch}/${p}`],
    ['gitlab:', (o, r, p) => `https://gitlab.com/${o}/${r}/-/raw/${branch}/${p}`],
  ];
  for (const [prefix, make] of forms) {
    if (!url.startsWith(prefix)) continue;
    const [org = '', repo = '', ...path] = url.slice(prefix.length).split('/');
    return make(org, repo, path.join('/'));
  }
  return url;
}

interface PackageJson {
  hashes?: [string, string][];
  urls?: [string, string][];
  deps?: [string, string][];
}

/** The files of `pkg` and its dependencies, fetched; `log` gets mpremote's progress lines. */
export async function mipFiles(pkg: string, opts: MipOptions, fetcher: Fetcher, log: (line: string) => void = () => {}): Promise<MipFile[]> {
  const index = (opts.index ?? DEFAULT_INDEX).replace(/\/+$/, '');
  const target = (opts.target ?? '/lib').replace(/\/+$/, '');
  const files: MipFile[] = [];
  const seen = new Set<string>();

  const get = async (url: string, what: string): Promise<Uint8Array> => {
    let r;
    try {
      r = await fetcher(url);
    } catch (err) {
      throw new BoardError('LOCAL_IO', `mip: cannot fetch ${url}: ${(err as Error).message}`);
    }
    if (r.status !== 200) throw new BoardError('LOCAL_IO', `mip: ${what} not found: ${url} (HTTP ${r.status})`);
    return r.body;
  };

  const installJson = async (url: string, version: string | undefined): Promise<void> => {
    const text = Buffer.from(await get(rewriteUrl(url, version), 'package')).toString('utf8');
    let json: PackageJson;
    try {
      json = JSON.parse(text) as PackageJson;
    } catch {
      throw new BoardError('LOCAL_IO', `mip: ${url} is not a package.json`);
    }
    const base = url.slice(0, url.lastIndexOf('/'));
    for (const [path, short] of json.hashes ?? []) {
      log(`Installing: ${target}/${path}`);
      files.push({ dest: `${target}/${path}`, data: await get(`${index}/file/${short.slice(0, 2)}/${short}`, 'file') });
    }
    for (const [path, fileUrl] of json.urls ?? []) {
      const full = isUrl(fileUrl) ? fileUrl : `${base}/${fileUrl}`;
      log(`Installing: ${target}/${path}`);
      files.push({ dest: `${target}/${path}`, data: await get(rewriteUrl(full, version), 'file') });
    }
    for (const [dep, depVersion] of json.deps ?? []) await install(dep, depVersion);
  };

  const install = async (name: string, version: string | undefined): Promise<void> => {
    if (seen.has(name)) return;
    seen.add(name);
    if (isUrl(name)) {
      let [url, branch] = name.split('@') as [string, string | undefined];
      branch ??= version;
      if (url.endsWith('.py') || url.endsWith('.mpy')) {
        const dest = `${target}/${url.slice(url.lastIndexOf('/') + 1)}`;
        log(`Installing: ${dest}`);
        files.push({ dest, data: await get(rewriteUrl(url, branch), 'file') });
        return;
      }
      if (!url.endsWith('.json')) url = `${url.replace(/\/+$/, '')}/package.json`;
      return installJson(url, branch);
    }
    return installJson(`${index}/package/${opts.mpy}/${name}/${version ?? 'latest'}.json`, undefined);
  };

  log(`Install ${pkg}`);
  await install(pkg, opts.version);
  return files;
}

/** Node's fetch as a Fetcher. */
export const httpFetcher: Fetcher = async (url) => {
  const r = await fetch(url);
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
};
