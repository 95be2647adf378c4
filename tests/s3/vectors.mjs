// vectors.mjs - the published answers test_sigv4 --vectors checks our signer
// against, as JSON on stdout:
//   suite    AWS's Signature V4 test suite, as the AWS SDK for JavaScript
//            carries it (@aws-sdk/signature-v4 3.0.0, Apache-2.0): each
//            request and its Authorization header;
//   presign  URLs of the AWS SDK's S3 presigner for PUTs (Content-Type and
//            Content-Length signed) and GETs, path and virtual-host style.
import { createRequire } from 'node:module';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const require = createRequire(import.meta.url);
const fixture = require('@aws-sdk/signature-v4/dist/cjs/suite.fixture.js');
const date = fixture.signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');

const suite = {
  date,
  region: fixture.region,
  service: fixture.service,
  accessKeyId: fixture.credentials.accessKeyId,
  secretAccessKey: fixture.credentials.secretAccessKey,
  requests: fixture.requests.map(({ name, request, authorization }) => ({
    name,
    method: request.method,
    path: request.path,
    query: Object.entries(request.query),
    headers: Object.entries(request.headers),
    body: request.body ?? '',
    authorization,
  })),
};

const cases = [
  { name: 'put, path style, port', method: 'PUT', endpoint: 'http://127.0.0.1:9000', pathStyle: true,
    region: 'us-east-1', bucket: 'hh-test', key: 'videos/inputs/u1/a.png', contentType: 'image/png',
    size: 1234, signedAt: 1767322800, expires: 900 },
  { name: 'put, virtual host, a week', method: 'PUT', endpoint: 'https://s3.eu-west-3.amazonaws.com',
    pathStyle: false, region: 'eu-west-3', bucket: 'my-bucket', key: 'videos/reference-video/u2/b.mp4',
    contentType: 'video/mp4', size: 52428800, signedAt: 1767322805, expires: 604800 },
  { name: 'put, key to encode', method: 'PUT', endpoint: 'https://minio.example.com:9443', pathStyle: true,
    region: 'eu-central-1', bucket: 'media.example', key: 'videos/inputs/u 3/a+b~c.webp',
    contentType: 'image/webp', size: 1, signedAt: 1767322811, expires: 60 },
  { name: 'get, path style', method: 'GET', endpoint: 'https://minio.example.com:9443', pathStyle: true,
    region: 'eu-central-1', bucket: 'media.example', key: 'videos/outputs/x.mp4',
    signedAt: 1767322800, expires: 86400 },
  { name: 'get, virtual host', method: 'GET', endpoint: 'https://s3.amazonaws.com', pathStyle: false,
    region: 'us-east-1', bucket: 'hh-videos', key: 'videos/thumbnails/y.jpg',
    signedAt: 1767319200, expires: 86400 },
];

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const presign = [];
for (const c of cases) {
  const client = new S3Client({
    region: c.region, endpoint: c.endpoint, forcePathStyle: c.pathStyle, credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // The SDK adds ?x-id=PutObject to name the operation; the store's URLs do not carry it.
  client.middlewareStack.add((next) => (args) => {
    delete args.request.query['x-id'];
    return next(args);
  }, { step: 'build', name: 'dropOperationId' });
  const command = c.method === 'PUT'
    ? new PutObjectCommand({ Bucket: c.bucket, Key: c.key, ContentType: c.contentType, ContentLength: c.size })
    : new GetObjectCommand({ Bucket: c.bucket, Key: c.key });
  const url = await getSignedUrl(client, command, {
    expiresIn: c.expires,
    signingDate: new Date(c.signedAt * 1000),
    signableHeaders: c.method === 'PUT' ? new Set(['content-type', 'content-length']) : undefined,
  });
  presign.push({ ...c, ...credentials, contentType: c.contentType ?? null, url });
}
console.log(JSON.stringify({ suite, presign }, null, 1));
