/**
 * The floors of the files benchmark: the least any server can do to move the bytes, run as its own
 * process like `ftnode serve`. Over HTTP (node:http, no framework, no multipart, no hashing, no
 * database): POST /upload streams the body into a file through the same 1 MiB write buffer as
 * ftnode, fsyncs it and answers; GET /download streams the file back in the same 64 KiB reads. Over
 * raw TCP (no HTTP at all): a connection's bytes go into a file, fsynced, then one byte answers.
 * Whatever ftnode does on top (sha256, multipart parsing, CRC-32C, the assembly of parts, the
 * database) is the difference between its rows and these.
 *   node dist/bench/lib/files-floor.js <dir>   → prints "floor http=<port> tcp=<port>"
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.argv[2]!;
const target = join(dir, 'floor-upload.bin');

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.sync();
  await fh.close();
}

const http = createHttpServer((req, res) => {
  void (async () => {
    if (req.method === 'POST') {
      await pipeline(req, createWriteStream(target, { highWaterMark: 1 << 20 }));
      await fsync(target);
      res.end('{"ok":true}');
    } else {
      const path = new URL(req.url ?? '/', 'http://x').searchParams.get('path') ?? '';
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(path).size });
      await pipeline(createReadStream(path, { highWaterMark: 64 * 1024 }), res);
    }
  })().catch((err: Error) => res.destroy(err));
});

// allowHalfOpen: the client half-closes after its last byte and still reads the answer.
const tcp = createTcpServer({ allowHalfOpen: true }, (socket) => {
  void (async () => {
    const sink = createWriteStream(target, { highWaterMark: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.pipe(sink).once('finish', resolve).once('error', reject); // pipe(), not pipeline(): the socket must stay open for the answer
      socket.once('error', reject);
    });
    await fsync(target);
  })().then(() => socket.end('k'), (err: Error) => socket.destroy(err));
});

http.listen(0, '127.0.0.1', () => {
  tcp.listen(0, '127.0.0.1', () => {
    console.log(`floor http=${(http.address() as AddressInfo).port} tcp=${(tcp.address() as AddressInfo).port}`);
  });
});
