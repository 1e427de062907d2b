// The detector's judging thread, seen from the detector: a batch's values go over in one
// transferred buffer, the thread decodes, detects and protects (judgeValues, the same code
// as in this thread), and the stored disclosures come back. The detector's own thread keeps
// fetching, inserting and committing meanwhile. The thread gets each registry version once
// (by digest) and builds its snapshot from it; it holds the keys, so it protects subscribers
// with the same results. If the thread fails, it is not used again and batches are judged in
// the detector's thread (judge-batch.ts): slower, never different.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LeakscopeError } from '../core/errors.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import type { Registry } from '../core/types.js';
import type { JudgedValues } from './judge-batch.js';
import type { ActiveRegistry } from './registry-state/index.js';

export interface JudgeWorkerInit {
  hashKey: Uint8Array;
  encKey: Uint8Array | null;
}

export type ToJudgeWorker =
  | { type: 'registry'; digest: string; registry: Registry }
  | { type: 'judge'; id: number; digest: string; values: ArrayBuffer; ends: Uint32Array; nulls: Uint8Array }
  | { type: 'close' };

export type FromJudgeWorker =
  | { type: 'judged'; id: number; judged: JudgedValues }
  | { type: 'failed'; id: number; message: string };

/** dist/detector/judge-worker.js next to this module; null under vitest from sources (no compiled worker there). */
export function defaultJudgeWorker(): URL | null {
  const url = new URL('./judge-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** How long close() lets the thread end by itself before terminating it. */
const CLOSE_GRACE_MS = 2000;

export class JudgeThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (j: JudgedValues) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private sentDigest: string | null = null;
  private failure: Error | null = null;
  private exited = false;

  /** `onFailure` is told once if the thread fails (not when it is closed). */
  constructor(script: URL, keys: PrivacyKeys, private readonly onFailure: (error: Error) => void = () => undefined) {
    const init: JudgeWorkerInit = { hashKey: new Uint8Array(keys.hashKey), encKey: keys.encKey === null ? null : new Uint8Array(keys.encKey) };
    this.worker = new Worker(script, { workerData: init });
    this.worker.unref(); // a detector that was never started or stopped does not hold the process
    this.worker.on('message', (m: FromJudgeWorker) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.type === 'judged') p.resolve(m.judged);
      else p.reject(new LeakscopeError('INTERNAL', `the judging thread failed a batch: ${m.message}`));
    });
    const fail = (error: Error): void => {
      if (this.failure === null) {
        this.failure = error;
        this.onFailure(error);
      }
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(new LeakscopeError('INTERNAL', `the judging thread failed: ${err.message}`, { cause: err })));
    this.worker.once('exit', () => { this.exited = true; });
    this.worker.on('exit', (code) => fail(new LeakscopeError('INTERNAL', `the judging thread exited (code ${code})`)));
  }

  /** False once the thread failed or was closed. */
  get usable(): boolean {
    return this.failure === null;
  }

  /** The thread's failure, if it failed (for the detector's log). */
  get failed(): Error | null {
    return this.failure;
  }

  judge(values: ReadonlyArray<Buffer | null>, active: ActiveRegistry): Promise<JudgedValues> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.sentDigest !== active.digest) {
      this.post({ type: 'registry', digest: active.digest, registry: active.registry });
      this.sentDigest = active.digest;
    }
    // One buffer for the whole batch, transferred: no copy per record, no clone of Buffers.
    let total = 0;
    for (const v of values) total += v?.length ?? 0;
    const bytes = new Uint8Array(total);
    const ends = new Uint32Array(values.length);
    const nulls = new Uint8Array(values.length);
    let pos = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) nulls[i] = 1;
      else {
        bytes.set(v, pos);
        pos += v.length;
      }
      ends[i] = pos;
    }
    const id = this.nextId++;
    const done = new Promise<JudgedValues>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.post({ type: 'judge', id, digest: active.digest, values: bytes.buffer, ends, nulls }, [bytes.buffer, ends.buffer, nulls.buffer]);
    return done;
  }

  /**
   * Ends the thread: asked to leave (it ends its batch, then exits by itself, so that what it
   * writes on exit, e.g. a `--cpu-prof` profile, is written), terminated after CLOSE_GRACE_MS.
   * Resolves with the thread's exit code (0: it left by itself; null: it had ended before).
   */
  async close(): Promise<number | null> {
    this.failure ??= new LeakscopeError('INTERNAL', 'the judging thread is closed');
    this.worker.removeAllListeners('exit');
    if (this.exited) return null;
    const exited = once(this.worker, 'exit') as Promise<[number]>;
    this.post({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    const [code] = await exited;
    clearTimeout(timer);
    this.exited = true;
    return code;
  }

  private post(message: ToJudgeWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}
