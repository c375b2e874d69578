/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * 1,000 WAL pages: it copies those pages into the database and fsyncs both files, and better-sqlite3
 * runs COMMIT on the event loop, so under load every few seconds all requests in flight stalled for
 * tens of milliseconds (the p99 of the benchmark). Here the serving connection turns automatic
 * checkpoints off and a worker thread, on a connection of its own, runs a PASSIVE checkpoint every
 * CHECKPOINT_INTERVAL_MS: PASSIVE never blocks the serving connection's readers or writer, and once a
 * checkpoint has copied the whole WAL the next writer starts it again from the top, so the WAL stays
 * near what one interval writes.
 *
 * The thread's code is plain CommonJS evaluated in the worker, so it runs however Trent itself was
 * started (tsx, a build, a test runner).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const CHECKPOINT_INTERVAL_MS = 100;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.close();
  }
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  /** `onError` hears a failed checkpoint (the WAL then grows until one succeeds; nothing is lost). */
  constructor(databasePath: string, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: databasePath, driver, intervalMs: CHECKPOINT_INTERVAL_MS },
      // Not the parent's --import/--cpu-prof flags: the thread needs none of them.
      execArgv: [],
    });
    this.#worker.on('message', (m: { error?: string }) => {
      if (m.error) onError(m.error);
    });
    this.#worker.on('error', (err) => onError(err.message));
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    // After the listeners: adding a 'message' listener refs the worker again. An open store must not keep
    // the process alive.
    this.#worker.unref();
  }

  /** Runs a last checkpoint and closes the thread's connection. */
  async stop(): Promise<void> {
    // Unreferenced so that an open store never keeps the process alive; held while it finishes.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
