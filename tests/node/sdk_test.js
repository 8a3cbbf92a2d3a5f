// The official Node SDK (cos-nodejs-sdk-v5) against a live wanxiang, as a user would call it.
// Run by tests/sdk/test_node_sdk.py: WANXIANG_PORT, SECRET_ID, SECRET_KEY, BUCKET, REGION, WORK_DIR,
// INPUT_PNG in the environment. Prints one line per passed case; exits 1 on the first failure.
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const COS = require('cos-nodejs-sdk-v5');

const env = process.env;
const Bucket = env.BUCKET;
const Region = env.REGION;
const cos = new COS({
  SecretId: env.SECRET_ID,
  SecretKey: env.SECRET_KEY,
  Ip: `127.0.0.1:${env.WANXIANG_PORT}`, // the Host header still names <bucket>.cos.<region>.myqcloud.com
  Protocol: 'http:',
});

function call(method, params) {
  return new Promise((resolve, reject) => {
    cos[method]({ Bucket, Region, ...params }, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

const md5 = (data) => crypto.createHash('md5').update(data).digest('hex');

function randomFile(name, size) {
  const file = path.join(env.WORK_DIR, name);
  fs.writeFileSync(file, crypto.randomBytes(size));
  return file;
}

function pngSize(data) {
  assert.strictEqual(data.subarray(1, 4).toString(), 'PNG');
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

const cases = {
  async uploadFileAboveOneMegabyteIsMultipartAndDownloadsByteEqual() {
    const file = randomFile('upload.bin', 3 * 1024 * 1024 + 17);
    const done = await call('uploadFile', { Key: 'node/upload.bin', FilePath: file, SliceSize: 1024 * 1024 });
    assert.match(done.ETag, /-\d+"$/, `uploadFile should have gone multipart: ${done.ETag}`);
    const got = await call('getObject', { Key: 'node/upload.bin' });
    assert.strictEqual(md5(got.Body), md5(fs.readFileSync(file)));
  },

  async sliceUploadFileInOneMegabyteChunks() {
    const file = randomFile('slice.bin', 5 * 1024 * 1024 + 3);
    await call('sliceUploadFile', { Key: 'node/slice.bin', FilePath: file, ChunkSize: 1024 * 1024, ContentType: 'video/mp4' });
    const head = await call('headObject', { Key: 'node/slice.bin' });
    assert.match(head.ETag, /-6"$/);
    assert.strictEqual(head.headers['content-length'], String(5 * 1024 * 1024 + 3));
    assert.strictEqual(head.headers['content-type'], 'video/mp4');
    const got = await call('getObject', { Key: 'node/slice.bin' });
    assert.strictEqual(md5(got.Body), md5(fs.readFileSync(file)));
  },

  async keysShapedLikeCiPathsAreObjects() {
    const keys = ['jobs', 'jobs/thumb.png', 'pic_jobs/x', 'template/a.png', 'workflow/w.png', 'picqueue/p', 'inventorytriggerjob/i'];
    for (const Key of keys) {
      await call('putObject', { Key, Body: Buffer.from(`node ${Key}`) });
    }
    for (const Key of keys) {
      const got = await call('getObject', { Key });
      assert.strictEqual(got.Body.toString(), `node ${Key}`, Key);
    }
    const listed = await call('getBucket', { Prefix: 'jobs' });
    assert.deepStrictEqual(listed.Contents.map((c) => c.Key), ['jobs', 'jobs/thumb.png']);
  },

  async picJobThroughCosRequest() {
    await call('putObject', { Key: 'node/in.png', Body: fs.readFileSync(env.INPUT_PNG) });
    const host = `${Bucket}.ci.${Region}.myqcloud.com`;
    const body = COS.util.json2xml({
      Request: {
        Tag: 'PicProcess',
        Input: { Object: 'node/in.png' },
        Operation: {
          PicProcess: { ProcessRule: 'imageMogr2/rotate/90' },
          Output: { Region, Bucket, Object: 'node/out.png' },
        },
      },
    });
    const created = await call('request', {
      Method: 'POST', Key: 'pic_jobs', Url: `http://${host}/pic_jobs`, Body: body,
      Headers: { 'content-type': 'application/xml' },
    });
    const jobId = created.Response.JobsDetail.JobId;
    assert.match(jobId, /^c[0-9a-f]{32}$/);
    let state = '';
    for (let i = 0; i < 300 && !['Success', 'Failed'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const got = await call('request', { Method: 'GET', Key: `pic_jobs/${jobId}`, Url: `http://${host}/pic_jobs/${jobId}` });
      state = got.Response.JobsDetail.State;
    }
    assert.strictEqual(state, 'Success');
    const out = await call('getObject', { Key: 'node/out.png' });
    assert.deepStrictEqual(pngSize(out.Body), [100, 200]);
  },
};

(async () => {
  for (const [name, run] of Object.entries(cases)) {
    try {
      await run();
      console.log(`ok ${name}`);
    } catch (err) {
      console.log(`FAILED ${name}: ${err && (err.stack || JSON.stringify(err))}`);
      process.exit(1);
    }
  }
})();
