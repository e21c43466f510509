/**
 * The cluster tables of the postgres store: one row per server with its heartbeat, and the
 * models each has loaded. Ages are measured with the database's clock, which every host shares.
 */
import { EXPIRE_AFTER_HEARTBEATS, GONE_AFTER_HEARTBEATS, type ClusterHost, type ClusterStore, type HostInfo, type HostRegistration, type LoadedModelEntry } from '../../cluster/types.js';
import type { PostgresPool } from './postgres-connection.js';

interface HostRow {
  host_id: string;
  url: string;
  version: string;
  started_at: Date;
  heartbeat_at: Date;
  heartbeat_ms: number;
  info: HostInfo;
  gone: boolean;
  age_ms: number;
  models: LoadedModelEntry[];
}

export class PostgresCluster implements ClusterStore {
  readonly #pool: PostgresPool;
  readonly #s: string;

  constructor(pool: PostgresPool, quotedSchema: string) {
    this.#pool = pool;
    this.#s = quotedSchema;
  }

  async heartbeat(host: HostRegistration): Promise<boolean> {
    return this.#pool.transaction('renewing the heartbeat', async (c) => {
      await c.query(`DELETE FROM ${this.#s}.cluster_hosts WHERE heartbeat_at < now() - heartbeat_ms * $1 * interval '1 millisecond'`, [EXPIRE_AFTER_HEARTBEATS]);
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      const { rows } = await c.query<{ inserted: boolean }>(`INSERT INTO ${this.#s}.cluster_hosts (host_id, url, version, started_at, heartbeat_at, heartbeat_ms, info)
          VALUES ($1, $2, $3, $4, now(), $5, $6::jsonb)
        ON CONFLICT (host_id, url) DO UPDATE SET version = excluded.version, started_at = excluded.started_at, heartbeat_at = now(),
          heartbeat_ms = excluded.heartbeat_ms, info = excluded.info
        RETURNING (xmax = 0) AS inserted`,
      [host.hostId, host.url, host.version, host.startedAt, host.heartbeatMs, JSON.stringify(host.info)]);
      return rows[0]?.inserted ?? true;
    });
  }

  async publishLoaded(hostId: string, url: string, models: readonly LoadedModelEntry[]): Promise<void> {
    await this.#pool.transaction('publishing loaded models', async (c) => {
      await c.query(`DELETE FROM ${this.#s}.cluster_loaded WHERE host_id = $1 AND url = $2`, [hostId, url]);
      // Only for a registered server: one whose row expired registers again with its next heartbeat.
      await c.query(`INSERT INTO ${this.#s}.cluster_loaded (host_id, url, name, model_id, info)
          SELECT h.host_id, h.url, e->>'name', e->>'model', e FROM ${this.#s}.cluster_hosts h, jsonb_array_elements($3::jsonb) e
          WHERE h.host_id = $1 AND h.url = $2
        ON CONFLICT DO NOTHING`, [hostId, url, JSON.stringify(models)]);
    });
  }

  async deregister(hostId: string, url: string): Promise<void> {
    await this.#pool.query('removing a server', `DELETE FROM ${this.#s}.cluster_hosts WHERE host_id = $1 AND url = $2`, [hostId, url]);
  }

  async hosts(): Promise<ClusterHost[]> {
    const { rows } = await this.#pool.query<HostRow>('reading the cluster', `SELECT h.host_id, h.url, h.version, h.started_at, h.heartbeat_at, h.heartbeat_ms, h.info,
        now() - h.heartbeat_at > h.heartbeat_ms * $1 * interval '1 millisecond' AS gone,
        (extract(epoch FROM now() - h.heartbeat_at) * 1000)::float8 AS age_ms,
        coalesce((SELECT jsonb_agg(l.info ORDER BY l.name) FROM ${this.#s}.cluster_loaded l WHERE l.host_id = h.host_id AND l.url = h.url), '[]') AS models
      FROM ${this.#s}.cluster_hosts h
      WHERE now() - h.heartbeat_at <= h.heartbeat_ms * $2 * interval '1 millisecond'
      ORDER BY gone, h.host_id, h.url`, [GONE_AFTER_HEARTBEATS, EXPIRE_AFTER_HEARTBEATS], { idempotent: true });
    return rows.map((r) => ({
      hostId: r.host_id, url: r.url, version: r.version, startedAt: r.started_at.toISOString(), heartbeatMs: r.heartbeat_ms, info: r.info,
      heartbeatAt: r.heartbeat_at.toISOString(), status: r.gone ? 'gone' : 'live', heartbeatAgeMs: Math.max(0, Math.round(r.age_ms)),
      // What a silent server held is no longer known.
      models: r.gone ? [] : r.models,
    }));
  }
}
