/**
 * A worker thread of `DescribePool`: keeps the models the main thread has found, takes the next
 * one no thread has taken (the shared counter), reads it with `describeOutcome` and posts back
 * plain facts (what the files say, its warnings, or why it failed; a file that changed while it
 * was read is named in the findings), a few outcomes per message. The main thread categorises
 * and sizes the findings (`describeFindings`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeOutcome, takeNext, type DescribeOutcome, type DescribeWorkerData, type OutcomesMessage, type UnitsMessage } from './describe-pool.js';
import type { ModelUnit } from './types.js';

const { next: shared } = workerData as DescribeWorkerData;
const next = new Int32Array(shared);
const units: (ModelUnit | null)[] = [];
/** Outcomes per message: enough that a message costs little, few enough that the main thread gets them soon. */
const PER_MESSAGE = 16;
let reading = false;

async function readAll(): Promise<void> {
  reading = true;
  let outcomes: [number, DescribeOutcome][] = [];
  for (let i = takeNext(next, units.length); i >= 0; i = takeNext(next, units.length)) {
    // An index is taken once, by one thread, after its model came: the entry is there, and is dropped once read.
    const unit = units[i]!;
    units[i] = null;
    outcomes.push([i, await describeOutcome(unit)]);
    if (outcomes.length >= PER_MESSAGE) {
      parentPort!.postMessage({ outcomes } satisfies OutcomesMessage);
      outcomes = [];
    }
  }
  if (outcomes.length > 0) parentPort!.postMessage({ outcomes } satisfies OutcomesMessage);
  reading = false;
}

parentPort!.on('message', ({ from, units: found }: UnitsMessage) => {
  for (const [k, unit] of found.entries()) units[from + k] = unit;
  // Models that come while this thread reads are taken by the loop already running.
  if (!reading) void readAll();
});
