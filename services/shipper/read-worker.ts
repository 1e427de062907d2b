// Entry point of the shipper's reading thread (compiled to dist/shipper/read-worker.js): reads
// and parses the log files and encodes each batch's requests as Avro into one buffer, which is
// transferred (not copied) to the main thread; the main thread only produces. At most
// `maxAhead` batches wait unread by the main thread, so a slow broker holds this thread back.
import { parentPort, workerData } from 'node:worker_threads';
import { AvroCodec } from '../avro/index.js';
import { isLeakscopeError } from '../core/errors.js';
import { encodedShipBatches, type FromReadWorker, type ReadWorkerInit } from './read-thread.js';

const init = workerData as ReadWorkerInit;
const port = parentPort!;
const codec = new AvroCodec();
let ahead = 0;
let wake: (() => void) | null = null;

port.on('message', () => {
  ahead--;
  wake?.();
  wake = null;
});

function post(message: FromReadWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function run(): Promise<void> {
  try {
    for await (const batch of encodedShipBatches(init.files, init, codec)) {
      while (ahead >= init.maxAhead) await new Promise<void>((resolve) => { wake = resolve; });
      const { encoded: { keys, bytes, ends }, ...rest } = batch;
      ahead++;
      post({
        type: 'batch',
        batch: { ...rest, keys, values: bytes.buffer as ArrayBuffer, valuesLength: bytes.length, ends },
      }, [bytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer]);
    }
    post({ type: 'done' });
  } catch (err) {
    const e = err as Error;
    post({
      type: 'error',
      error: isLeakscopeError(err)
        ? { code: err.code, message: err.message, problems: err.problems, stack: err.stack }
        : { code: 'INTERNAL', message: `reading the logs failed: ${e?.message ?? String(err)}`, stack: e?.stack },
    });
  }
}

void run();
