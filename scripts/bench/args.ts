import { parseArgs } from 'node:util';

export interface BenchOptions {
  devices: number;
  messages: number;
  window: number;
  rate: number;
  rateSeconds: number;
  payload: number;
  json: boolean;
}

const HELP = `npm run bench -- [options]

Starts a kluis server (embedded default, SQLite in a temp dir) and a bare WebSocket
relay, drives both with the same load from this process, and prints figures.

  --devices N        connected devices (default 2000)
  --messages M       envelopes in the throughput phase (default 200000)
  --window W         sends in flight at once (default 2000)
  --rate R           msgs/s in the latency phase (default 2000)
  --rate-seconds S   length of the latency phase (default 5)
  --payload BYTES    ciphertext size (default 1024)
  --json             print the results as JSON too
  --help             this text
`;

export function parseBenchArgs(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '2000' },
      messages: { type: 'string', default: '200000' },
      window: { type: 'string', default: '2000' },
      rate: { type: 'string', default: '2000' },
      'rate-seconds': { type: 'string', default: '5' },
      payload: { type: 'string', default: '1024' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    devices: int('devices', values.devices!, 2, 20_000),
    messages: int('messages', values.messages!, 1, 5_000_000),
    window: int('window', values.window!, 1, 100_000),
    rate: int('rate', values.rate!, 1, 100_000),
    rateSeconds: int('rate-seconds', values['rate-seconds']!, 1, 600),
    payload: int('payload', values.payload!, 1, 96 * 1024),
    json: values.json!,
  };
}
