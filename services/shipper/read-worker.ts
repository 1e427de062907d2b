// Entry point of the shipper's reading thread (compiled to dist/shipper/read-worker.js): reads
// and parses the log files and encodes each batch's requests as Avro into one buffer, which is
// transferred (not copied) to the main thread; the main thread only produces. At most
// `maxAhead` batches wait unread by the main thread, so a slow broker holds this thread back.
// The work comes in a first message, so that the thread can be started (and load its modules)
// before the work is known (ReadThread).
import { parentPort } from 'node:worker_threads';
import { AvroCodec } from '../avro/index.js';
import { isLeakscopeError } from '../core/errors.js';
import { encodedShipBatches, type FromReadWorker, type ReadWorkerInit, type ToReadWorker } from './read-thread.js';

const port = parentPort!;
const codec = new AvroCodec();
let ahead = 0;
let wake: (() => void) | null = null;
let started = false;

port.on('message', (m: ToReadWorker) => {
  if (m.type === 'init') {
    if (!started) void run(m.init);
    started = true;
    return;
  }
  ahead--;
  wake?.();
  wake = null;
});

function post(message: FromReadWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function run(init: ReadWorkerInit): Promise<void> {
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

