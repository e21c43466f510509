/**
 * A worker thread of `DescribePool`: reads the headers of batches of models with
 * `describeOutcome` and posts back plain facts (the description, its warnings, or why it
 * failed, after stating the model's files again to see whether they changed during the read).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeOutcome, type DescribeBatch, type DescribeOutcome, type DescribeWorkerData } from './describe-pool.js';

const { rules } = workerData as DescribeWorkerData;

parentPort!.on('message', async ({ id, units }: DescribeBatch) => {
  const outcomes: DescribeOutcome[] = [];
  for (const unit of units) outcomes.push(await describeOutcome(unit, rules));
  parentPort!.postMessage({ id, outcomes });
});
