// Entry point of a scan worker thread (compiled to dist/scan/worker.js): reads the byte
// range or file of each task it is given, parses, detects and protects, and posts each batch
// back. It waits for acknowledgements so that a slow store holds the workers back instead of
// filling memory.
import { parentPort, workerData } from 'node:worker_threads';
import { isLeakscopeError } from '../core/errors.js';
import { buildSnapshot } from '../core/registry/index.js';
import { readLogFile, readLogRange, type LogBatch } from '../files/index.js';
import { Protector } from '../store/index.js';
import { BatchAssembler, readBatchLines, type ProcessedBatch } from './process-batch.js';
import type { ErrorShape, FromWorker, ToWorker, WorkerInit } from './protocol.js';
import type { ScanTask } from './tasks.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const snapshot = buildSnapshot(init.registry);
const protector = new Protector({
  hashKey: Buffer.from(init.hashKey),
  encKey: init.encKey === null ? null : Buffer.from(init.encKey),
});

let inFlight = 0;
let wakeOnAck: (() => void) | null = null;
const tasks: ScanTask[] = [];
let wakeOnTask: (() => void) | null = null;

port.on('message', (message: ToWorker) => {
  if (message.type === 'ack') {
    inFlight--;
    wakeOnAck?.();
    wakeOnAck = null;
  } else {
    tasks.push(message.task);
    wakeOnTask?.();
    wakeOnTask = null;
  }
});

function post(message: FromWorker): void {
  port.postMessage(message);
}

function batchesOf(task: ScanTask): AsyncIterable<LogBatch> {
  const options = { format: init.format, profile: init.profile, batchLines: readBatchLines(init.batchLines) };
  return task.kind === 'range'
    ? readLogRange(task.path, { ...options, start: task.start, end: task.end, known: task.known })
    : readLogFile(task.path, options);
}

async function send(taskId: number, batch: ProcessedBatch): Promise<void> {
  while (inFlight >= init.maxInFlight) await new Promise<void>((resolve) => { wakeOnAck = resolve; });
  inFlight++;
  post({ type: 'batch', taskId, batch });
}

async function runTask(task: ScanTask): Promise<void> {
  try {
    // One assembler per task: a store batch never spans two tasks.
    const assembler = new BatchAssembler(snapshot, protector, init.encoding, init.batchLines);
    for await (const batch of batchesOf(task)) {
      for (const processed of assembler.add(batch)) await send(task.id, processed);
    }
    const last = assembler.flush();
    if (last !== null) await send(task.id, last);
    post({ type: 'done', taskId: task.id });
  } catch (err) {
    const error: ErrorShape = isLeakscopeError(err)
      ? { code: err.code, message: err.message, problems: [...err.problems] }
      : { code: 'INTERNAL', message: (err as Error)?.message ?? String(err), problems: [], stack: (err as Error)?.stack };
    post({ type: 'error', taskId: task.id, error });
  }
}

// The main thread closes the worker (terminate) when there is nothing left to do.
for (;;) {
  const task = tasks.shift();
  if (task === undefined) {
    await new Promise<void>((resolve) => { wakeOnTask = resolve; });
    continue;
  }
  await runTask(task);
}
