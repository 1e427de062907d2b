// Entry point of the detector's judging thread (compiled to dist/detector/judge-worker.js):
// builds a registry snapshot from each registry version it is sent, and judges the batches it
// is sent with judgeValues, as the detector's own thread would (judge-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { AvroCodec } from '../avro/index.js';
import { buildSnapshot } from '../core/registry/index.js';
import type { RegistrySnapshot } from '../core/types.js';
import { Protector } from '../store/index.js';
import { judgeValues } from './judge-batch.js';
import type { FromJudgeWorker, JudgeWorkerInit, ToJudgeWorker } from './judge-thread.js';

const init = workerData as JudgeWorkerInit;
const port = parentPort!;
const codec = new AvroCodec();
const protector = new Protector({ hashKey: Buffer.from(init.hashKey), encKey: init.encKey === null ? null : Buffer.from(init.encKey) });
const snapshots = new Map<string, RegistrySnapshot>();

function post(message: FromJudgeWorker): void {
  port.postMessage(message);
}

port.on('message', (m: ToJudgeWorker) => {
  if (m.type === 'registry') {
    snapshots.clear(); // batches are judged in order: no batch of an older version follows
    snapshots.set(m.digest, buildSnapshot(m.registry));
    return;
  }
  if (m.type === 'close') {
    port.close(); // nothing else keeps this thread's loop alive: it exits
    return;
  }
  void (async () => {
    try {
      const snapshot = snapshots.get(m.digest);
      if (snapshot === undefined) throw new Error(`no registry with digest ${m.digest}`);
      const all = Buffer.from(m.values);
      const values: Array<Buffer | null> = new Array(m.ends.length);
      let start = 0;
      for (let i = 0; i < m.ends.length; i++) {
        const end = m.ends[i]!;
        values[i] = m.nulls[i] === 1 ? null : all.subarray(start, end);
        start = end;
      }
      const judged = await judgeValues(values, { codec, protector, snapshot }, { yieldEvery: Number.MAX_SAFE_INTEGER });
      post({ type: 'judged', id: m.id, judged: judged! });
    } catch (err) {
      post({ type: 'failed', id: m.id, message: (err as Error)?.message ?? String(err) });
    }
  })();
});
