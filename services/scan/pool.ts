// A small pool of scan workers: hands out tasks one at a time per worker, passes every
// processed batch to the single writer in arrival order, acknowledges it once written, and
// stops everything at the first error or on abort.
import { Worker } from 'node:worker_threads';
import { LeakscopeError, type ErrorCode } from '../core/errors.js';
import type { ProcessedBatch } from './process-batch.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import type { ScanTask } from './tasks.js';

export interface PoolRun {
  script: URL;
  workers: number;
  init: WorkerInit;
  tasks: readonly ScanTask[];
  /** Called for one batch at a time, in arrival order; the batch's worker waits for it when it is ahead. */
  write: (batch: ProcessedBatch) => Promise<void>;
  signal?: AbortSignal;
}

export async function runPool(run: PoolRun): Promise<void> {
  const queue = [...run.tasks];
  const workers: Worker[] = [];
  let writing: Promise<void> = Promise.resolve();
  let failed = false;
  let stopped = false;
  let onAbort: (() => void) | null = null;

  try {
    await new Promise<void>((resolve, reject) => {
      let busy = 0;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const dispatch = (worker: Worker): void => {
        const task = queue.shift();
        if (task === undefined || failed || run.signal?.aborted) {
          if (busy === 0) writing.then(resolve, fail);
          return;
        }
        busy++;
        worker.postMessage({ type: 'task', task } satisfies ToWorker);
      };
      // On abort, the batches already being written finish; nothing new is written.
      onAbort = () => {
        stopped = true;
        queue.length = 0;
        writing.then(resolve, fail);
      };
      if (run.signal?.aborted) onAbort();
      else run.signal?.addEventListener('abort', onAbort, { once: true });

      for (let i = 0; i < Math.min(run.workers, queue.length || 1); i++) {
        const worker = new Worker(run.script, { workerData: run.init });
        workers.push(worker);
        worker.on('message', (message: FromWorker) => {
          if (failed || stopped) return;
          switch (message.type) {
            case 'batch':
              writing = writing.then(async () => {
                if (failed || stopped) return;
                await run.write(message.batch);
                worker.postMessage({ type: 'ack' } satisfies ToWorker);
              });
              writing.catch(fail);
              break;
            case 'done':
              busy--;
              dispatch(worker);
              break;
            case 'error': {
              const e = message.error;
              const error = new LeakscopeError(e.code as ErrorCode, e.message, { problems: e.problems });
              if (e.stack) error.stack = e.stack;
              fail(error);
              break;
            }
          }
        });
        worker.on('error', (error) => fail(new LeakscopeError('INTERNAL', `a scan worker failed: ${error.message}`, { cause: error })));
        worker.on('exit', (code) => {
          if (code !== 0 && !failed) fail(new LeakscopeError('INTERNAL', `a scan worker exited with code ${code}`));
        });
        dispatch(worker);
      }
    });
  } finally {
    failed = true; // from here on, late messages are ignored
    if (onAbort !== null) run.signal?.removeEventListener('abort', onAbort);
    await writing.catch(() => undefined);
    await Promise.all(workers.map((w) => { w.removeAllListeners('exit'); return w.terminate(); }));
  }
}
