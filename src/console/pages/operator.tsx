/**
 * The operator's view: seal state and custody (TrentOperator.GetSealStatus), custom key stores and their
 * connection state (DescribeCustomKeyStores), and a summary of GET /metrics. Each part is its own signed
 * call of the signed-in principal, refused with AWS's error when it may not make it. Nodes and workers:
 * GetSealStatus's `Node`/`Nodes` (the answering process, the heartbeat table on PostgreSQL) and the
 * `worker` labels of the metrics (TRENT_WORKERS > 1).
 */
import { useState } from 'preact/hooks';
import { DescribeCustomKeyStoresCommand } from '@aws-sdk/client-kms';
import type { PageProps } from '../app.tsx';
import { scrapeMetrics, summarizeMetrics, trentOperator, type MetricsSummary } from '../signed-fetch.ts';
import { KeyValues, Section, Show, useLoad, when } from '../ui.tsx';

const CUSTODY: Record<string, string> = {
  dev: 'development root key file (not for production)',
  shamir: 'Shamir quorum of unseal shares',
  pkcs11: 'HSM (PKCS#11) unseal key',
};

export function OperatorPage({ clients, session }: PageProps) {
  const seal = useLoad(() => trentOperator(session.credentials, session.region, 'GetSealStatus'), []);
  const stores = useLoad(async () => (await clients.kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores ?? [], []);
  const [previous, setPrevious] = useState<{ at: number; summary: MetricsSummary } | undefined>();
  const metrics = useLoad(async () => ({ at: Date.now(), summary: summarizeMetrics(await scrapeMetrics(session.credentials, session.region)) }), []);
  const refreshMetrics = () => {
    if (metrics.data) setPrevious(metrics.data);
    metrics.reload();
  };

  return (
    <>
      <h1>Operator</h1>
      <Section title="Seal and custody">
        <Show loaded={seal}>
          {(s) => (
            <KeyValues rows={[
              ['State', <strong data-testid="seal-state">{s.Sealed ? 'sealed' : s.Initialized ? 'unsealed' : 'uninitialized'}</strong>],
              ['Custody', <span data-testid="custody">{CUSTODY[String(s.Mode)] ?? String(s.Mode)}</span>],
              ['Unseal threshold', s.Threshold !== undefined ? `${String(s.Threshold)} of ${String(s.Shares)}` : '—'],
              ['Root key version', String(s.RootKeyVersion ?? '—')],
              ['Rekey in progress', s.Rekey ? 'yes' : 'no'],
            ]} />
          )}
        </Show>
      </Section>
      <Section title="Nodes and workers">
        {seal.data
          ? <Nodes status={seal.data} workers={metrics.data?.summary.workers} />
          : <p aria-busy={seal.loading}>{seal.loading ? 'Loading…' : 'Not available: GetSealStatus was refused (above).'}</p>}
      </Section>
      <Section title="Custom key stores">
        <Show loaded={stores}>
          {(list) => list.length === 0 ? <p>No custom key store.</p> : (
            <table>
              <caption class="sr-only">Custom key stores</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Type</th><th scope="col">HSM cluster</th><th scope="col">Connection</th><th scope="col">Created</th></tr></thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.CustomKeyStoreId}>
                    <td>{k.CustomKeyStoreName}</td><td>{k.CustomKeyStoreId}</td><td>{k.CustomKeyStoreType}</td><td>{k.CloudHsmClusterId ?? '—'}</td>
                    <td>{k.ConnectionState}{k.ConnectionErrorCode ? ` (${k.ConnectionErrorCode})` : ''}</td><td>{when(k.CreationDate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </Section>
      <Section title="Metrics (this node)">
        <Show loaded={metrics}>
          {({ at, summary: m }) => {
            const rate = previous && at > previous.at ? ((m.requests - previous.summary.requests) * 1000) / (at - previous.at) : undefined;
            const errors = Object.entries(m.errors);
            return (
              <KeyValues rows={[
                ['Requests answered', <span data-testid="metric-requests">{m.requests}</span>],
                ['Request rate', rate !== undefined ? `${rate.toFixed(2)} per second since the last refresh` : 'refresh to measure'],
                ['Errors', errors.length === 0 ? 'none' : errors.map(([k, v]) => `${k}: ${v}`).join(', ')],
                ['Mean latency', m.meanLatencyMs !== undefined ? `${m.meanLatencyMs.toFixed(1)} ms` : '—'],
                ['Failed background passes', String(m.jobFailures)],
              ]} />
            );
          }}
        </Show>
        <button type="button" onClick={refreshMetrics}>Refresh metrics</button>
      </Section>
    </>
  );
}

interface NodeMember { Id?: string; Worker?: string; LastSeen?: number }

/**
 * The processes the deployment knows: the heartbeat table's (PostgreSQL) or, without one, the process that
 * answered; then the cluster workers seen in the metrics, with the requests each answered.
 */
function Nodes({ status, workers }: { status: Record<string, unknown>; workers?: Record<string, number> | undefined }) {
  const self = status.Node as NodeMember | undefined;
  const live = (status.Nodes as NodeMember[] | undefined) ?? (self ? [self] : []);
  const workerList = Object.entries(workers ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  return (
    <>
      <table>
        <caption>{status.Nodes ? 'Nodes seen in the store\'s heartbeat table' : 'This node (SQLite: no heartbeat table)'}</caption>
        <thead><tr><th scope="col">Node ID</th><th scope="col">Last seen</th><th scope="col">Answered this call</th></tr></thead>
        <tbody>
          {live.map((n) => (
            <tr key={n.Id} data-testid="node">
              <td>{n.Id}</td>
              <td>{n.LastSeen !== undefined ? when(new Date(n.LastSeen * 1000)) : 'now'}</td>
              <td>{n.Id === self?.Id ? `yes${self?.Worker ? ` (worker ${self.Worker})` : ''}` : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {workerList.length === 0
        ? <p data-testid="workers">One process serves this node (TRENT_WORKERS = 1).</p>
        : (
          <table data-testid="workers">
            <caption>Workers of this node (from the metrics)</caption>
            <thead><tr><th scope="col">Worker</th><th scope="col">Requests answered</th></tr></thead>
            <tbody>{workerList.map(([w, n]) => <tr key={w}><td>{w}</td><td>{n}</td></tr>)}</tbody>
          </table>
        )}
    </>
  );
}
