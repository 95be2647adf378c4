// videos.test.mjs - drives HappyHorse's /v1/videos with the official openai
// SDK's own video calls: create (multipart, with input_reference as a file),
// retrieve until completed, downloadContent (video and thumbnail), list with
// the SDK's auto-paging, delete, and the SDK's error classes on refusals.
// Run by tests/api/test_openai.sh with HH_BASE, HH_KEY, HH_PNG (an image
// file) and HH_OUT (a directory for the downloads); prints one JSON line
// of what it saw, which the shell test asserts on, and exits 1 on the
// first broken expectation.
import fs from 'node:fs';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';

const { HH_BASE, HH_KEY, HH_PNG, HH_OUT } = process.env;
const client = new OpenAI({ apiKey: HH_KEY, baseURL: `${HH_BASE}/v1`, maxRetries: 0 });
const seen = {};

// create: what the SDK sends is multipart/form-data, the image a file part
const image = await toFile(fs.readFileSync(HH_PNG), 'card.png', { type: 'image/png' });
let v = await client.videos.create({
  prompt: 'A chestnut horse galloping along a beach at sunrise',
  model: 'sora-2',
  seconds: '4',
  size: '1280x720',
  input_reference: image,
});
assert.equal(v.object, 'video');
assert.equal(v.status, 'queued');
assert.equal(v.seconds, '4');
assert.equal(v.size, '1280x720');
assert.equal(v.error, null);
seen.created = v.id;

// retrieve until completed (a generous ceiling: shared machines are slow)
const statuses = new Set([v.status]);
const until = Date.now() + 240_000;
while (v.status === 'queued' || v.status === 'in_progress') {
  assert.ok(Date.now() < until, `still ${v.status} after 240 s`);
  await new Promise((r) => setTimeout(r, 500));
  v = await client.videos.retrieve(v.id);
  statuses.add(v.status);
  assert.ok(v.progress >= 0 && v.progress <= 100);
}
assert.equal(v.status, 'completed', JSON.stringify(v));
assert.equal(v.progress, 100);
assert.ok(v.completed_at >= v.created_at);
seen.statuses = [...statuses];

// downloadContent: the MP4, and the thumbnail
const mp4 = Buffer.from(await (await client.videos.downloadContent(v.id)).arrayBuffer());
fs.writeFileSync(`${HH_OUT}/sdk.mp4`, mp4);
const jpg = Buffer.from(
  await (await client.videos.downloadContent(v.id, { variant: 'thumbnail' })).arrayBuffer(),
);
fs.writeFileSync(`${HH_OUT}/sdk.jpg`, jpg);
assert.equal(jpg[0], 0xff);
assert.equal(jpg[1], 0xd8);

// list: three more videos, then every page the SDK walks (limit 2 a page)
const more = [];
for (const size of ['720x1280', '720x720', '1920x1080']) {
  more.push((await client.videos.create({ prompt: `A horse in a field, framed ${size}`, seconds: '3', size })).id);
}
const listed = [];
for await (const item of client.videos.list({ limit: 2 })) listed.push(item.id);
assert.equal(new Set(listed).size, listed.length, 'no video listed twice');
for (const id of [v.id, ...more]) assert.ok(listed.includes(id), `${id} listed`);
assert.deepEqual(listed.slice(0, 3), [...more].reverse(), 'newest first');
seen.listed = listed.length;

// refusals: the SDK's own error classes, OpenAI's error shape
try {
  await client.videos.create({ prompt: 'A horse', size: '1792x1024' });
  assert.fail('an unknown size was accepted');
} catch (e) {
  assert.ok(e instanceof OpenAI.BadRequestError, String(e));
  assert.equal(e.param, 'size');
  assert.equal(e.code, 'invalid_input');
  assert.equal(e.type, 'invalid_request_error');
}
try {
  await client.videos.delete(more[0]); // still queued or rendering
  assert.fail('a video in the queue was deleted');
} catch (e) {
  assert.ok(e instanceof OpenAI.ConflictError, String(e));
  seen.deleteQueued = e.code;
}

// delete the completed one: gone afterwards
const del = await client.videos.delete(v.id);
assert.deepEqual(del, { id: v.id, object: 'video.deleted', deleted: true });
try {
  await client.videos.retrieve(v.id);
  assert.fail('a deleted video was found');
} catch (e) {
  assert.ok(e instanceof OpenAI.NotFoundError, String(e));
  assert.equal(e.code, 'not_found');
}
const bad = new OpenAI({ apiKey: 'hh_live_nope', baseURL: `${HH_BASE}/v1`, maxRetries: 0 });
try {
  await bad.videos.list();
  assert.fail('a bad key listed videos');
} catch (e) {
  assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
  seen.badKey = e.code;
}
seen.others = more;
console.log(JSON.stringify(seen));
