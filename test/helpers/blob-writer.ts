/**
 * Child process for the conformance suite's crash test: opens the blob store described by argv[2]
 * (JSON), streams an endless source into key argv[3] and prints WRITING once 20 MiB went out (past
 * two 8 MiB S3 parts), then keeps writing until the parent kills it with SIGKILL.
 */
import { Readable } from 'node:stream';
import { LocalDiskBlobStore } from '../../src/blobs/local-disk.js';
import { S3BlobStore } from '../../src/blobs/s3.js';
import { S3_CREDENTIALS } from './s3-server.js';

const spec = JSON.parse(process.argv[2]!) as { kind: 'local'; root: string } | { kind: 's3'; url: string; endpoint: string; cacheDir: string };
const store = spec.kind === 'local'
  ? new LocalDiskBlobStore(spec.root)
  : new S3BlobStore({ url: spec.url, endpoint: spec.endpoint, forcePathStyle: true, cacheDir: spec.cacheDir, credentials: S3_CREDENTIALS });
const chunk = Buffer.alloc(1 << 20, 7);
let sent = 0;
const source = new Readable({
  read() {
    sent += chunk.length;
    if (sent === 20 << 20) process.stdout.write('WRITING\n');
    this.push(chunk);
  },
});
void store.writeStream(process.argv[3]!, source);
