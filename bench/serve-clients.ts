// The who-saw clients of bench/serve.ts, in a process of their own so that their CPU is not
// the service's: `node serve-clients.js SPEC_FILE` reads {base, token, numbers, clients,
// requests, warmup} and prints {latencies, cpuMs, wallMs, distinct} as JSON. Each client keeps
// one keep-alive connection (node:http, much cheaper per request than fetch) and asks for a
// number drawn at random among all the stored subscribers', so answers are not cache-friendly
// repeats.
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';

interface Spec {
  base: string;
  token: string;
  numbers: string[];
  clients: number;
  requests: number;
  warmup: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const url = new URL('/api/v1/who-saw', spec.base);
const agent = new Agent({ keepAlive: true, maxSockets: spec.clients });
const asked = new Set<number>();

function whoSaw(k: number): Promise<number> {
  const body = JSON.stringify({ number: spec.numbers[k], reason: 'bench BENCH-1' });
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${spec.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`who-saw answered ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - start) / 1e6);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pick = () => {
  const k = Math.floor(Math.random() * spec.numbers.length);
  asked.add(k);
  return k;
};

async function run(total: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: spec.clients }, async () => {
    while (next < total) {
      next += 1;
      latencies.push(await whoSaw(pick()));
    }
  }));
  return latencies;
}

await run(spec.warmup);
asked.clear();
process.stderr.write('measuring\n');
const cpu = process.cpuUsage();
const wallStart = process.hrtime.bigint();
const latencies = await run(spec.requests);
const wallMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
const used = process.cpuUsage(cpu);
agent.destroy();
process.stdout.write(JSON.stringify({ latencies, cpuMs: (used.user + used.system) / 1000, wallMs, distinct: asked.size }));
