// CLI wrapper of the incident generator: `node dist/demo/incident.js --out DIR [--requests N]
// [--seed S] [--format split|ndjson|w3c] [--subscribers N] [--sites N] [--no-disclosures]`.
// The only part that touches the file system; output is streamed, gzip where a path ends in .gz.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { createGzip, type Gzip } from 'node:zlib';
import { generateIncident, type IncidentOptions, type IncidentSink } from './incident/index.js';
import type { LogFormatChoice } from './incident/index.js';

const USAGE = `Usage: node dist/demo/incident.js --out DIR [--requests N] [--seed S] [--format split|ndjson|w3c]
                                  [--subscribers N] [--sites N] [--no-disclosures]

Writes DIR/registry.yaml, DIR/logs/* (gateway access logs) and DIR/truth/* (ground truth).
  --requests N      requests in total (default 300000; ~3.2M make about 1 GB of logs)
  --seed S          any string (default "o2-2012"); same seed, same bytes
  --format F        split (default): gw-lon-01 and gw-gla-03 NDJSON, gw-man-02 W3C; or all one format
  --subscribers N   default requests/60 within [200, 5000]
  --sites N         default requests/100 within [40, 3000]
  --no-disclosures  skip truth/disclosures.ndjson (one line per disclosing request)
`;

type Out = { stream: WriteStream; gzip: Gzip | null };

/** Streams each output path to disk, respecting back-pressure, gzipping `.gz` paths. */
export class DirectorySink implements IncidentSink {
  private readonly outs = new Map<string, Out>();

  constructor(private readonly dir: string) {}

  async write(path: string, text: string): Promise<void> {
    let out = this.outs.get(path);
    if (!out) {
      const full = join(this.dir, path);
      mkdirSync(dirname(full), { recursive: true });
      const stream = createWriteStream(full);
      const gzip = path.endsWith('.gz') ? createGzip() : null;
      if (gzip) gzip.pipe(stream);
      out = { stream, gzip };
      this.outs.set(path, out);
    }
    const target = out.gzip ?? out.stream;
    if (!target.write(text)) await once(target, 'drain');
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.outs.values()].map(async ({ stream, gzip }) => {
        (gzip ?? stream).end();
        await once(stream, 'close');
      }),
    );
  }
}

export function parseArgs(argv: string[]): { out: string; options: IncidentOptions } | string {
  const options: IncidentOptions = { seed: 'o2-2012' };
  let out: string | null = null;
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const flag = argv[i];
      const value = (): string => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${flag}: missing value`);
        return v;
      };
      switch (flag) {
        case '--out': out = value(); break;
        case '--requests': options.requests = int(flag, value()); break;
        case '--seed': options.seed = value(); break;
        case '--subscribers': options.subscribers = int(flag, value()); break;
        case '--sites': options.sites = int(flag, value()); break;
        case '--format': {
          const f = value();
          if (f !== 'split' && f !== 'ndjson' && f !== 'w3c') throw new Error(`--format: expected split, ndjson or w3c, got ${JSON.stringify(f)}`);
          options.format = f as LogFormatChoice;
          break;
        }
        case '--no-disclosures': options.disclosures = false; break;
        case '--help': case '-h': return USAGE;
        default: throw new Error(`unknown option ${JSON.stringify(flag)}`);
      }
    }
  } catch (err) {
    return `${(err as Error).message}\n\n${USAGE}`;
  }
  if (out === null) return `--out DIR is required\n\n${USAGE}`;
  return { out: resolve(out), options };
}

export async function runCli(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    const help = argv.includes('--help') || argv.includes('-h');
    (help ? process.stdout : process.stderr).write(parsed);
    return help ? 0 : 2;
  }
  const sink = new DirectorySink(parsed.out);
  try {
    const result = await generateIncident(parsed.options, sink);
    await sink.close();
    process.stdout.write(`${JSON.stringify({ out: parsed.out, ...result.summary.totals, files: result.summary.files.map((f) => f.file) })}\n`);
    return 0;
  } catch (err) {
    await sink.close().catch(() => undefined);
    process.stderr.write(`incident: ${(err as Error).message}\n`);
    return (err as Error).message.startsWith('--') ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
