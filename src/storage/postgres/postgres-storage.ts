/** PostgreSQL adapter: placeholder until the adapter lands (see issue on PostgreSQL storage). */
import type { Repos, Storage } from '../storage.ts';

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  constructor(readonly url: string) {}
  migrate(): Promise<void> {
    return Promise.reject(new Error('the PostgreSQL adapter is not built yet'));
  }
  transaction<T>(_fn: (tx: Repos) => Promise<T>): Promise<T> {
    return Promise.reject(new Error('the PostgreSQL adapter is not built yet'));
  }
  read<T>(_fn: (repos: Repos) => Promise<T>): Promise<T> {
    return Promise.reject(new Error('the PostgreSQL adapter is not built yet'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
