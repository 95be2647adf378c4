// server.mjs - an S3-compatible server for the tests: @20minutes/s3rver on
// 127.0.0.1, a port the kernel picks, objects under DIR, one bucket made at
// start. It checks SigV4 signatures (header and presigned; credentials
// S3RVER / S3RVER), so a presigned PUT with another Content-Type or
// Content-Length is refused. Hosts <bucket>.s3.localhost are virtual-host
// style, s3.localhost and 127.0.0.1 path style.
//   node server.mjs DIR BUCKET PORTFILE
// writes {"port": N} to PORTFILE once listening (its log of requests and
// stored parts goes to stdout); stops on SIGTERM.
import { writeFileSync, renameSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';

const [dir, bucket, portFile] = process.argv.slice(2);
if (!dir || !bucket || !portFile) {
  console.error('usage: node server.mjs DIR BUCKET PORTFILE');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: false, // its log shows each request and each part stored
  directory: dir,
  serviceEndpoint: 'localhost',
  configureBuckets: [{ name: bucket, configs: [] }],
});
const { port } = await server.run();
writeFileSync(`${portFile}.tmp`, JSON.stringify({ port }));
renameSync(`${portFile}.tmp`, portFile); // whole or absent, never half written
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
