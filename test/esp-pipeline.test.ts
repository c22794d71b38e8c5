// Pipelined data blocks (FLASH_DEFL_DATA / FLASH_DATA sent ahead of their answers): never more than the window
// in flight, and a NAK or a frame lost on the line still fails the write cleanly, naming the block.
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ErrorCode, Op, ROM_STATUS_LEN } from '../protocol/esp/commands.js';
import { EspLoader } from '../protocol/esp/loader.js';
import { decodeRequest, encodeResponse, readU32le, statusBytes } from '../protocol/esp/packet.js';
import { SlipDecoder, slipEncode } from '../protocol/esp/slip.js';
import { writeFlash } from '../flash/write-flash.js';
import { STUB, closeRigs, md5, rig, testData } from './helpers/esp-rig.js';
import { connectEsp } from '../flash/esp-connect.js';
import { createDuplexPair } from './helpers/esp-duplex.js';

afterEach(closeRigs);

/**
 * A scripted loader: answers each data block after `delayMs`, as `answer(seq)` says (an error code, or 'drop').
 * The host waits `timeoutMs` for each answer: long unless the test is about the timeout (a loaded host may run
 * the 5 ms answer late). The line closes when the test ends, passed or not.
 */
function scriptedPeer(answer: (seq: number) => number | 'drop', timeoutMs = 20_000, delayMs = 5) {
  const { host, device } = createDuplexPair();
  const decoder = new SlipDecoder();
  const seen: number[] = [];
  let unanswered = 0;
  let maxInFlight = 0;
  // Answers still due when the test closes the line are dropped, not written to a closed duplex.
  const due = new Set<NodeJS.Timeout>();
  device.onData((chunk) => {
    for (const frame of decoder.push(chunk).frames) {
      const d = decodeRequest(frame);
      if (!d.ok) continue;
      const seq = readU32le(d.packet.data, 1);
      seen.push(seq);
      const what = answer(seq);
      if (what === 'drop') continue;
      maxInFlight = Math.max(maxInFlight, ++unanswered);
      const timer = setTimeout(() => {
        due.delete(timer);
        unanswered--;
        void device.write(slipEncode(encodeResponse({ op: d.packet.op, value: 0, data: statusBytes(ROM_STATUS_LEN, what) })));
      }, delayMs);
      due.add(timer);
    }
  });
  onTestFinished(() => {
    for (const timer of due) clearTimeout(timer);
    return host.close();
  });
  return { loader: new EspLoader(host, { timeoutMs }), seen, maxInFlight: () => maxInFlight };
}

const blocks = (n: number) => Array.from({ length: n }, (_, i) => testData(1024, i));

describe('pipelined data blocks', () => {
  it.each([1, 2, 3])('keeps at most %i block(s) in flight and reports each answer in order', async (window) => {
    const peer = scriptedPeer(() => 0);
    const answered: number[] = [];
    await peer.loader.dataBlocks(Op.FLASH_DEFL_DATA, blocks(8), window, (seq) => answered.push(seq));
    expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(peer.seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(peer.maxInFlight()).toBe(window);
  });

  it('fails on a NAK, naming the block, and sends no more than the window past it', async () => {
    const peer = scriptedPeer((seq) => (seq === 2 ? ErrorCode.INVALID_CRC : 0));
    await expect(peer.loader.dataBlocks(Op.FLASH_DEFL_DATA, blocks(8), 2)).rejects.toMatchObject({
      code: 'BOOTLOADER',
      message: /write compressed data to target flash after seq 2: .*0x07/,
    });
    // Block 3 went out when block 1 was answered; on a loaded host answers 1 and 2 arrive together and the NAK
    // ends the write while block 3 is still on the line, so let the line deliver what was sent before counting.
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.seen).toEqual([0, 1, 2, 3]);
  });

  it('fails with a timeout when a frame is lost on the line (its answer never comes)', async () => {
    const peer = scriptedPeer((seq) => (seq === 5 ? 'drop' : 0), 1000);
    const t = performance.now();
    await expect(peer.loader.dataBlocks(Op.FLASH_DATA, blocks(6), 2)).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: /Timed out waiting for packet response to FLASH_DATA after seq 5/,
    });
    // The wait for the lost answer ended it: after the loader's timeout, not after the test's.
    expect(performance.now() - t).toBeGreaterThanOrEqual(1000);
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  it.each([false, true])('writes through the virtual ROM pipelined (stub %s), compressed and not, and the MD5 matches', async (stub) => {
    const r = rig('esp32');
    const s = await connectEsp(r.host, { stub: stub ? STUB : undefined });
    const data = testData(48 * 1024, 3);
    for (const compress of [true, false]) {
      const [res] = await writeFlash(s, [{ address: 0x20000, data }], { compress, skipUnchanged: false });
      expect(res!.md5).toBe(md5(data));
      expect(md5(r.flash.data.subarray(0x20000, 0x20000 + data.length))).toBe(md5(data));
    }
  });
});
