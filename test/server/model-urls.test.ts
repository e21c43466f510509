import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalModelUrl } from '../../src/server/model-urls.js';

test('model ids with slashes are encoded into one path segment before routing', () => {
  const cases: [string, string][] = [
    ['/api/models/org/name', '/api/models/org%2Fname'],
    ['/api/models/org/name/', '/api/models/org%2Fname'],
    ['/api/models/org/name?x=1', '/api/models/org%2Fname?x=1'],
    ['/api/models/org/name/versions', '/api/models/org%2Fname/versions'],
    ['/api/models/org/name/versions/3', '/api/models/org%2Fname/versions/3'],
    ['/api/models/a/b/c/release', '/api/models/a%2Fb%2Fc/release'],
    ['/api/models/org/test-load', '/api/models/org/test-load'],
    ['/api/models/org%2Fmetrics', '/api/models/org%2Fmetrics'],
    ['/api/models/org%2Fname/versions', '/api/models/org%2Fname/versions'],
    ['/api/models/discovery/status', '/api/models/discovery/status'],
    ['/api/models/metadata/bulk-update', '/api/models/metadata/bulk-update'],
    ['/api/models/solo', '/api/models/solo'],
    ['/api/models', '/api/models'],
    ['/api/models//x', '/api/models//x'],
    ['/v1/models', '/v1/models'],
  ];
  for (const [url, expected] of cases) assert.equal(canonicalModelUrl(url), expected, url);
});
