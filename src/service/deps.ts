/**
 * What every service is built from, as one object: each constructor takes the part it needs
 * (`Pick<ServiceCore, …>` plus its own settings), so the composition root passes one record instead
 * of seven positional arguments whose order has to be remembered.
 */
import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../domain/catalog.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/store.js';
import type { Bus } from './bus.js';
import type { ServiceEvents } from './events.js';
import type { TrainerHooks } from './trainer-hooks.js';

export interface ServiceCore {
  store: Store;
  blobs: BlobStore;
  catalog: Catalog;
  clock: Clock;
  /** Wake-ups (job changed, work queued), fed by other replicas too. */
  bus: Bus;
  /** What this process's services did (events.ts): metrics and logs subscribe. */
  events: ServiceEvents;
  hooks: TrainerHooks;
}
