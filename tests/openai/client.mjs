// The official `openai` npm package (pinned in package-lock.json) against a running chatvault:
// CHATVAULT_URL (e.g. http://127.0.0.1:8080) and CHATVAULT_TOKEN (a chatvault bearer token,
// used as the API key) come from the environment; this script starts nothing. It runs
// models.list, a non-streamed completion, a streamed one (for await over the chunks) and a
// second turn with the whole history, checks what the client sees, prints `ok NAME` /
// `FAIL NAME: why` per step and a last line `RESULT {json}` with the thread ids, so the Python
// test (tests/api/test_openai_client.py) can check what chatvault stored. Exit 1 on a failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.CHATVAULT_URL;
const apiKey = process.env.CHATVAULT_TOKEN;
if (!baseURL || !apiKey) {
  console.error('CHATVAULT_URL and CHATVAULT_TOKEN must be set');
  process.exit(2);
}
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey, maxRetries: 0, timeout: 30000 });
const result = {};
let failed = 0;

async function step(name, fn) {
  try {
    await fn();
    console.log('ok ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ': ' + (e && e.stack ? e.stack : e));
  }
}

await step('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['chatvault-offline']);
});

const history = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is a vault?' },
];

await step('chat.completions.create', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'chatvault-offline', messages: history })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices.length, 1);
  const msg = data.choices[0].message;
  assert.equal(msg.role, 'assistant');
  assert.match(msg.content, /^\[offline responder\] /);
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.total_tokens > 0);
  result.thread = Number(response.headers.get('x-chatvault-thread'));
  assert.ok(result.thread > 0);
  result.reply1 = msg.content;
  history.push({ role: 'assistant', content: msg.content });
});

await step('chat.completions.create stream', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'chatvault-offline', messages: [{ role: 'user', content: 'Stream, please.' }],
              stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  let text = '', finish = null, usage = null, role = null, n = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    n++;
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      if (ch.delta.role) role = ch.delta.role;
      if (ch.delta.content) text += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.ok(n >= 3, 'chunks: ' + n);
  assert.equal(role, 'assistant');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0);
  assert.match(text, /^\[offline responder\] You said: "Stream, please\."/);
  result.streamThread = Number(response.headers.get('x-chatvault-thread'));
  result.streamReply = text;
});

await step('second turn with the full history', async () => {
  history.push({ role: 'user', content: 'And a second question?' });
  const { data, response } = await client.chat.completions
    .create({ model: 'chatvault-offline', messages: history })
    .withResponse();
  assert.equal(Number(response.headers.get('x-chatvault-thread')), result.thread);
  result.reply2 = data.choices[0].message.content;
});

await step('second turn streamed', async () => {
  history.push({ role: 'assistant', content: result.reply2 });
  history.push({ role: 'user', content: 'A third, streamed.' });
  const stream = await client.chat.completions.create({
    model: 'chatvault-offline', messages: history, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content || '';
  result.reply3 = text;
});

await step('errors reach the client as APIError', async () => {
  const bad = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'not-a-token', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
    assert.equal(e.status, 401);
    return true;
  });
  await assert.rejects(
    client.chat.completions.create({ model: 'x', messages: [{ role: 'assistant', content: 'a' }] }),
    (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.equal(e.error?.type ?? e.type, 'invalid_request_error');
      return true;
    });
});

console.log('RESULT ' + JSON.stringify(result));
process.exit(failed ? 1 : 0);
