/**
 * A worker thread of `DescribePool`: reads the headers of batches of models with `describeUnit`
 * and posts back plain facts (the description, its warnings, or why it failed), after stating
 * the model's files again to see whether they changed during the read.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toModelManagerError } from '../errors.js';
import { describeUnit } from './describe.js';
import type { DescribeBatch, DescribeOutcome, DescribeWorkerData } from './describe-pool.js';
import { WarningSink } from './fs-scan.js';
import type { ScanWarning } from './types.js';
import { changedSince } from './walk.js';

const { rules } = workerData as DescribeWorkerData;

parentPort!.on('message', async ({ id, units }: DescribeBatch) => {
  const outcomes: DescribeOutcome[] = [];
  for (const unit of units) {
    const warnings: ScanWarning[] = [];
    try {
      const description = await describeUnit(unit, rules, (path, reason) => warnings.push({ path, reason }));
      const moved = changedSince(unit, new WarningSink())[0];
      outcomes.push({ description, warnings, ...(moved === undefined ? {} : { moved }) });
    } catch (error) {
      const err = toModelManagerError(error);
      const path = typeof err.details.path === 'string' ? err.details.path : undefined;
      outcomes.push({ error: { code: err.code, message: err.message, ...(path === undefined ? {} : { path }) }, warnings });
    }
  }
  parentPort!.postMessage({ id, outcomes });
});
