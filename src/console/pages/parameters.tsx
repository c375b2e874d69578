/**
 * Parameter Store: the hierarchy as a tree by path (from DescribeParameters), one parameter's history
 * and labels, SecureString values revealed only on an explicit click, put and delete.
 */
import { useState } from 'preact/hooks';
import {
  DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, GetParameterHistoryCommand,
  LabelParameterVersionCommand, PutParameterCommand, type ParameterMetadata, type ParameterType,
} from '@aws-sdk/client-ssm';
import type { PageProps } from '../app.tsx';
import { ErrorBox, Field, Section, Show, useAction, useLoad, when } from '../ui.tsx';
import { PermissionsNote, usePermissions } from '../permissions.tsx';

/** The changes a parameter's page offers, checked with SimulatePrincipalPolicy on the parameter's ARN. */
const PARAMETER_CHANGES = ['ssm:DeleteParameter', 'ssm:LabelParameterVersion'];

interface Node {
  name: string;
  children: Map<string, Node>;
  parameter?: ParameterMetadata;
}

function treeOf(parameters: ParameterMetadata[]): Node {
  const root: Node = { name: '/', children: new Map() };
  for (const p of parameters) {
    let node = root;
    for (const part of p.Name!.split('/').filter((x) => x !== '')) {
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = { name: part, children: new Map() }));
      node = next;
    }
    node.parameter = p;
  }
  return root;
}

const link = (name: string) => `#/parameters/${encodeURIComponent(name)}`;

function Tree({ node, selected }: { node: Node; selected?: string | undefined }) {
  const children = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <ul>
      {children.map((c) => (
        <li key={c.name}>
          {c.parameter
            ? <a href={link(c.parameter.Name!)} aria-current={c.parameter.Name === selected ? 'page' : undefined}>{c.name}</a>
            : <span>{c.name}/</span>}
          {c.children.size > 0 && <Tree node={c} selected={selected} />}
        </li>
      ))}
    </ul>
  );
}

export function ParametersPage({ clients, session, name }: PageProps & { name?: string | undefined }) {
  const all = useLoad(async () => {
    const out: ParameterMetadata[] = [];
    let token: string | undefined;
    do {
      const page = await clients.ssm.send(new DescribeParametersCommand({ MaxResults: 50, ...(token ? { NextToken: token } : {}) }));
      out.push(...(page.Parameters ?? []));
      token = page.NextToken;
    } while (token && out.length < 10_000);
    return out;
  }, []);
  const action = useAction();
  // Bumped by a put, so the open parameter's history is read again (its hash may not change).
  const [refresh, setRefresh] = useState(0);
  const put = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const paramName = String(data.get('name')).trim();
    void action.run(async () => {
      await clients.ssm.send(new PutParameterCommand({
        Name: paramName, Value: String(data.get('value')), Type: String(data.get('type')) as ParameterType,
        Overwrite: data.get('overwrite') === 'on', ...(String(data.get('description')) ? { Description: String(data.get('description')) } : {}),
      }));
      form.reset();
    }, () => {
      all.reload();
      setRefresh((n) => n + 1);
      window.location.hash = link(paramName);
    });
  };
  return (
    <>
      <h1>Parameters</h1>
      <div class="columns">
        <nav aria-label="Parameter tree" class="tree">
          <Show loaded={all}>{(list) => list.length === 0 ? <p>No parameter.</p> : <Tree node={treeOf(list)} selected={name} />}</Show>
        </nav>
        <div>
          {name && <ParameterDetail key={`${name}#${refresh}`} clients={clients} session={session} name={name} onDeleted={() => { all.reload(); window.location.hash = '#/parameters'; }} />}
          <Section title="Put a parameter">
            <form class="grid" onSubmit={put}>
              <Field label="Parameter name"><input name="name" required autocomplete="off" placeholder="/app/prod/db-url" /></Field>
              <Field label="Type"><select name="type"><option>String</option><option>StringList</option><option>SecureString</option></select></Field>
              <Field label="Value"><input name="value" type="password" required autocomplete="off" /></Field>
              <Field label="Description"><input name="description" autocomplete="off" /></Field>
              <label class="check"><input type="checkbox" name="overwrite" /> Overwrite an existing parameter (new version)</label>
              <ErrorBox error={action.error} />
              <button type="submit" disabled={action.busy}>Put parameter</button>
            </form>
          </Section>
        </div>
      </div>
    </>
  );
}

function ParameterDetail({ clients, session, name, onDeleted }: PageProps & { name: string; onDeleted: () => void }) {
  // AWS: arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>.
  const perm = usePermissions(clients, session, PARAMETER_CHANGES, `arn:aws:ssm:${session.region}:${session.account}:parameter/${name.replace(/^\//, '')}`);
  const history = useLoad(async () => {
    const out = [];
    let token: string | undefined;
    do {
      const page = await clients.ssm.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: false, MaxResults: 50, ...(token ? { NextToken: token } : {}) }));
      out.push(...(page.Parameters ?? []));
      token = page.NextToken;
    } while (token);
    return out.reverse();
  }, [name]);
  const action = useAction();
  const [revealed, setRevealed] = useState<{ version: number; value: string } | undefined>();
  const reveal = (version: number) => void action.run(async () => {
    const p = await clients.ssm.send(new GetParameterCommand({ Name: `${name}:${version}`, WithDecryption: true }));
    setRevealed({ version, value: p.Parameter?.Value ?? '' });
  });
  const label = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const labels = String(data.get('labels')).split(',').map((l) => l.trim()).filter((l) => l !== '');
    void action.run(async () => {
      const out = await clients.ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: Number(data.get('version')), Labels: labels }));
      if (out.InvalidLabels?.length) throw new Error(`Labels refused: ${out.InvalidLabels.join(', ')}`);
    }, history.reload);
  };
  return (
    <Section title={`Parameter ${name}`}>
      <PermissionsNote permissions={perm} />
      <ErrorBox error={action.error} />
      <Show loaded={history}>
        {(versions) => (
          <>
            <table>
              <caption>History of {name}</caption>
              <thead><tr><th scope="col">Version</th><th scope="col">Type</th><th scope="col">Labels</th><th scope="col">Modified</th><th scope="col">By</th><th scope="col">Value</th></tr></thead>
              <tbody>
                {versions.map((v) => (
                  <tr key={v.Version} data-testid={`parameter-version-${v.Version}`}>
                    <td>{v.Version}</td><td>{v.Type}</td><td>{(v.Labels ?? []).join(', ') || '—'}</td>
                    <td>{when(v.LastModifiedDate)}</td><td>{v.LastModifiedUser}</td>
                    <td>
                      {v.Type !== 'SecureString'
                        ? <code>{v.Value}</code>
                        : revealed && revealed.version === v.Version
                          ? <><pre data-testid="parameter-value">{revealed.value}</pre><button type="button" onClick={() => setRevealed(undefined)}>Hide value</button></>
                          : <button type="button" onClick={() => reveal(v.Version!)}>Reveal version {v.Version}</button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <form class="inline" onSubmit={label}>
              <Field label="Version to label"><input name="version" type="number" min={1} required defaultValue={String(versions[0]?.Version ?? 1)} /></Field>
              <Field label="Labels (comma-separated)"><input name="labels" required autocomplete="off" /></Field>
              <button type="submit" {...perm.guard('ssm:LabelParameterVersion')}>Label version</button>
            </form>
            <div class="actions">
              <button type="button" class="danger" {...perm.guard('ssm:DeleteParameter')} onClick={() => void action.run(() => clients.ssm.send(new DeleteParameterCommand({ Name: name })), onDeleted)}>Delete parameter</button>
            </div>
          </>
        )}
      </Show>
    </Section>
  );
}
