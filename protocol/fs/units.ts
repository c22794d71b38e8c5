// Human-readable sizes, shared by progress lines, df and tree -h.

export function formatBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}` : `${v.toFixed(1)}${units[u]}`;
}
