// The virtual board: LEDs lit or not, buttons to press from the keyboard, sensor values to adjust, the
// SSD1306 display in braille, and a timeline of pin changes.
import { useEffect, useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { PartSpec } from '../../../emulator/peripherals/parts.js';
import { brailleRows } from '../braille.js';
import type { HwSnapshot, PinEvent, VirtualHw } from '../virtual-hw.js';

const POLL_MS = 100;
const HISTORY = 400;
const TIMELINE_WIDTH = 40;

type Button = Extract<PartSpec, { type: 'button' | 'bootsel' }>;

export interface BoardPanelViewProps {
  hw: HwSnapshot;
  history: PinEvent[];
  pressed: ReadonlySet<string>;
  temperature?: number;
  /** The voltage source's value once adjusted here (else its configured value). */
  volts?: number;
  height: number;
}

/** Per pin, its last levels as a waveform (▁ low, ▔ high), newest on the right. */
export function timeline(history: PinEvent[], width: number): Array<[number, string]> {
  const byPin = new Map<number, string>();
  for (const e of history) byPin.set(e.pin, ((byPin.get(e.pin) ?? '') + (e.level ? '▔' : '▁')).slice(-width));
  return [...byPin.entries()].sort((a, b) => a[0] - b[0]);
}

export function BoardPanelView({ hw, history, pressed, temperature, volts, height }: BoardPanelViewProps) {
  const buttons = hw.parts.filter((p): p is Button => p.type === 'button' || p.type === 'bootsel');
  const voltage = hw.parts.find((p) => p.type === 'voltage');
  const oled = hw.oleds[0];
  const waves = timeline(history, TIMELINE_WIDTH);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Box>
        {/* The display keeps its size; on a narrow terminal the labels beside it are cut instead. */}
        <Box flexDirection="column" marginRight={1} flexShrink={1}>
          <Text bold>LEDs</Text>
          {hw.leds.map((l) => (
            <Text key={l.id} wrap="truncate">
              <Text color={l.on ? 'redBright' : 'gray'}>{l.on ? '●' : '○'}</Text> {l.id} (pin {l.pin}) {l.on ? 'ON' : 'off'}
            </Text>
          ))}
          <Text bold>Buttons</Text>
          {buttons.map((b, i) => (
            <Text key={b.id} wrap="truncate">
              [{i + 1}] {b.id}
              {b.type === 'button' ? ` (pin ${b.pin})` : ''} {pressed.has(b.id) ? <Text inverse>PRESSED</Text> : 'released'}
            </Text>
          ))}
          <Text bold>Sensors</Text>
          {temperature !== undefined ? <Text wrap="truncate">temp {temperature.toFixed(2)} °C (+/-)</Text> : null}
          {voltage ? <Text wrap="truncate">{voltage.id} pin {voltage.pin}: {(volts ?? voltage.volts).toFixed(2)} V (&lt;/&gt;)</Text> : null}
        </Box>
        {oled ? (
          <Box flexDirection="column" flexShrink={0}>
            <Text bold wrap="truncate">{oled.id} {oled.width}x{oled.height}{oled.on ? '' : ' (off)'}</Text>
            {(oled.on ? brailleRows(oled.framebuffer, oled.width, oled.height, oled.inverted) : []).map((row, i) => (
              <Text key={i}>{row}</Text>
            ))}
          </Box>
        ) : null}
      </Box>
      <Text bold>Pin timeline</Text>
      {waves.length === 0 ? <Text dimColor>no pin changes yet</Text> : null}
      {waves.map(([pin, wave]) => (
        <Text key={pin}>
          {`pin ${String(pin).padStart(2)} `}
          {wave}
        </Text>
      ))}
      <Text dimColor wrap="truncate">1-9 press/release a button · +/- temperature · &lt;/&gt; voltage</Text>
    </Box>
  );
}

export interface BoardPanelProps {
  hw?: VirtualHw;
  active: boolean;
  height: number;
}

/** Polls the board while visible and turns keys into control requests. */
export function BoardPanel({ hw, active, height }: BoardPanelProps) {
  const [snapshot, setSnapshot] = useState<HwSnapshot>();
  const [pressed, setPressed] = useState<ReadonlySet<string>>(new Set());
  const [temperature, setTemperature] = useState<number>();
  const [volts, setVolts] = useState<number>();
  const [error, setError] = useState<string>();
  const history = useRef<PinEvent[]>([]);

  useEffect(() => {
    if (!hw || !active) return;
    let stopped = false;
    const poll = async () => {
      try {
        const s = await hw.snapshot();
        history.current = [...history.current, ...s.pinEvents].slice(-HISTORY);
        if (!stopped) {
          setSnapshot(s);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    let timer = setTimeout(poll, 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [hw, active]);

  const sensor = snapshot?.parts.find((p) => p.type === 'tmp102');
  const temp = temperature ?? (sensor?.type === 'tmp102' ? (sensor.celsius ?? 22.5) : undefined);
  const act = (p: Promise<void>) => void p.catch((err: Error) => setError(err.message));

  useInput(
    (input) => {
      if (!hw || !snapshot) return;
      const buttons = snapshot.parts.filter((p) => p.type === 'button' || p.type === 'bootsel');
      const n = Number.parseInt(input, 10);
      const button = n >= 1 ? buttons[n - 1] : undefined;
      if (button) {
        const down = !pressed.has(button.id);
        const next = new Set(pressed);
        if (down) next.add(button.id);
        else next.delete(button.id);
        setPressed(next);
        act(hw.pressButton(button.id, down));
      } else if ((input === '+' || input === '-') && temp !== undefined) {
        const value = temp + (input === '+' ? 0.5 : -0.5);
        setTemperature(value);
        act(hw.setTemperature(value));
      } else if (input === '<' || input === '>') {
        const v = snapshot.parts.find((p) => p.type === 'voltage');
        if (v?.type === 'voltage') {
          const value = Math.max(0, Math.min(3.3, (volts ?? v.volts) + (input === '>' ? 0.1 : -0.1)));
          setVolts(value);
          act(hw.setVoltage(v.pin, value));
        }
      }
    },
    { isActive: active },
  );

  if (!hw) return <Text dimColor>Connect to a virtual board (F1) to see its hardware.</Text>;
  if (!snapshot) return <Text dimColor>{error ?? 'reading the board…'}</Text>;
  return (
    <Box flexDirection="column" height={height}>
      <BoardPanelView hw={snapshot} history={history.current} pressed={pressed} temperature={temp} volts={volts} height={height - (error ? 1 : 0)} />
      {error ? <Text color="red" wrap="truncate">{error}</Text> : null}
    </Box>
  );
}
