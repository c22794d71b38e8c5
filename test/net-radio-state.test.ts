// The radio's state on a board's net channel (emulator/net/host.ts): sent once as the channel is made and once at
// each change, never again for a boot (a soft reset keeps the worker's copy). A real NetHost and channel; the
// test takes the worker's end, posting what client.ts posts.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { NetHost } from '../emulator/net/host.js';
import type { NetEvent, NetRequest } from '../emulator/net/protocol.js';

/** The events waiting on the worker's end. */
function take(port: MessagePort): NetEvent[] {
  const out: NetEvent[] = [];
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) out.push(m.message as NetEvent);
  return out;
}

/** Post a request and resolve once its reply is in: the host has handled everything posted before it. */
async function request(port: MessagePort, rq: number, req: Extract<NetRequest, { t: 'wlan' }>['req']): Promise<NetEvent[]> {
  port.postMessage({ t: 'wlan', rq, req } satisfies NetRequest);
  const seen: NetEvent[] = [];
  while (!seen.some((e) => e.t === 'reply' && e.rq === rq)) {
    await new Promise((r) => setImmediate(r));
    seen.push(...take(port));
  }
  return seen;
}

const states = (events: NetEvent[]) => events.filter((e) => e.t === 'wlan');

describe("the radio's state on the net channel", () => {
  it('is posted once at power-on, not again for a boot, and again at each change', async () => {
    const host = new NetHost({ mac: '24:0a:c4:00:00:01', hostname: 'mpy-esp32' });
    const { port } = host.attach();
    try {
      const first = states(take(port));
      expect(first).toHaveLength(1);
      port.postMessage({ t: 'boot' } satisfies NetRequest); // the first boot's net part
      expect(states(await request(port, 1, { op: 'active', iface: 0 }))).toEqual([]);
      const up = states(await request(port, 2, { op: 'active', iface: 0, value: true }));
      expect(up).toHaveLength(1);
      expect(up[0]).not.toEqual(first[0]);
      port.postMessage({ t: 'boot' } satisfies NetRequest); // a soft reset
      expect(states(await request(port, 3, { op: 'active', iface: 0 }))).toEqual([]);
    } finally {
      host.detach();
      port.close();
    }
  });
});
