// The virtual board as drawn: LEDs lit or not and buttons pressed or not, one full-width line each (so at 80x24
// nothing of them is cut), the sensors, the SSD1306 display in braille and beside it the pin timeline.
// Polling and keys: panel-model.ts.
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { brailleRows } from '../braille.js';
import { buttonsOf, type PanelModel } from '../panel-model.js';
import { useStore } from '../store.js';
import type { HwSnapshot, PinEvent } from '../virtual-hw.js';

const MAX_TIMELINE = 40;
const LABEL = 9;

export interface BoardPanelViewProps {
  hw: HwSnapshot;
  history: PinEvent[];
  pressed: ReadonlySet<string>;
  temperature?: number;
  /** The voltage source's value once adjusted here (else its configured value). */
  volts?: number;
  height: number;
  width: number;
}

/** Per pin, its last levels as a waveform (▁ low, ▔ high), newest on the right. */
export function timeline(history: PinEvent[], width: number): Array<[number, string]> {
  const byPin = new Map<number, string>();
  for (const e of history) byPin.set(e.pin, ((byPin.get(e.pin) ?? '') + (e.level ? '▔' : '▁')).slice(-width));
  return [...byPin.entries()].sort((a, b) => a[0] - b[0]);
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Text wrap="wrap">
      <Text bold>{label.padEnd(LABEL)}</Text>
      {children}
    </Text>
  );
}

export function BoardPanelView({ hw, history, pressed, temperature, volts, height, width }: BoardPanelViewProps) {
  const buttons = buttonsOf(hw.parts);
  const voltage = hw.parts.find((p) => p.type === 'voltage');
  const oled = hw.oleds[0];
  const oledCols = oled ? Math.ceil(oled.width / 2) : 0;
  // Beside the display: "pin NN " and the wave in what is left of the width.
  const waveWidth = Math.max(4, Math.min(MAX_TIMELINE, (oled ? width - oledCols - 1 : width) - 7));
  const waves = timeline(history, waveWidth);
  const sensors = [
    temperature !== undefined ? `temp ${temperature.toFixed(2)} °C (+/-)` : undefined,
    voltage?.type === 'voltage' ? `${voltage.id} pin ${voltage.pin}: ${(volts ?? voltage.volts).toFixed(2)} V (</>)` : undefined,
  ].filter(Boolean);
  const pins = (
    <Box flexDirection="column" flexShrink={1}>
      <Text bold>Pin timeline</Text>
      {waves.length === 0 ? <Text dimColor wrap="truncate">no pin changes yet</Text> : null}
      {waves.map(([pin, wave]) => (
        <Text key={pin} wrap="truncate">
          {`pin ${String(pin).padStart(2)} `}
          {wave}
        </Text>
      ))}
    </Box>
  );
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Row label="LEDs">
        {hw.leds.length === 0 ? 'none' : null}
        {hw.leds.map((l, i) => (
          <Text key={l.id}>
            {i ? '   ' : ''}
            <Text color={l.on ? 'redBright' : 'gray'}>{l.on ? '●' : '○'}</Text> {l.id} (pin {l.pin}) {l.on ? 'ON' : 'off'}
          </Text>
        ))}
      </Row>
      <Row label="Buttons">
        {buttons.length === 0 ? 'none' : null}
        {buttons.map((b, i) => (
          <Text key={b.id}>
            {i ? '   ' : ''}[{i + 1}] {b.id}
            {b.type === 'button' ? ` (pin ${b.pin})` : ''} {pressed.has(b.id) ? <Text inverse>PRESSED</Text> : 'released'}
          </Text>
        ))}
      </Row>
      <Row label="Sensors">{sensors.length ? sensors.join(' · ') : 'none'}</Row>
      {oled ? (
        <Box flexGrow={1} overflow="hidden">
          <Box flexDirection="column" flexShrink={0} marginRight={1} width={oledCols}>
            <Text bold wrap="truncate">{oled.id} {oled.width}x{oled.height}{oled.on ? '' : ' (off)'}</Text>
            {(oled.on ? brailleRows(oled.framebuffer, oled.width, oled.height, oled.inverted) : []).map((row, i) => (
              <Text key={i}>{row}</Text>
            ))}
          </Box>
          {pins}
        </Box>
      ) : (
        <Box flexGrow={1} overflow="hidden">{pins}</Box>
      )}
      <Text dimColor wrap="truncate">1-9 press/release a button · +/- temperature · &lt;/&gt; voltage</Text>
    </Box>
  );
}

export interface BoardPanelProps {
  model: PanelModel;
  height: number;
  width: number;
}

export function BoardPanel({ model, height, width }: BoardPanelProps) {
  const s = useStore(model);
  if (!s.hw) return <Text dimColor>Connect to a virtual board (F2 Boards) to see its hardware.</Text>;
  if (!s.snapshot) return <Text dimColor>{s.error ?? 'reading the board…'}</Text>;
  return (
    <Box flexDirection="column" height={height}>
      <BoardPanelView hw={s.snapshot} history={s.history} pressed={s.pressed} temperature={model.temperature} volts={s.volts} height={height - (s.error ? 1 : 0)} width={width} />
      {s.error ? <Text color="red" wrap="truncate">{s.error}</Text> : null}
    </Box>
  );
}
