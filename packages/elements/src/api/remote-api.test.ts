import { expect } from '@open-wc/testing';
import { DiscoApiError, titanic } from '@disco/core';
import { createRemoteApi, remoteApiFor } from './remote-api.js';

/** Replaces `fetch` with answers by tRPC procedure name, recording the requests. */
function stubServer(answers: Record<string, (request: Request) => Response>): { requests: Request[]; restore: () => void } {
  const original = globalThis.fetch;
  const requests: Request[] = [];
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request.clone());
    const procedure = new URL(request.url).pathname.replace(/^\/trpc\//, '');
    const answer = answers[procedure];
    return answer ? answer(request) : new Response('not found', { status: 404 });
  };
  return { requests, restore: () => (globalThis.fetch = original) };
}

const ok = (data: unknown) => () => Response.json({ result: { data } });
const refusal = (status: number, message: string, data: Record<string, unknown>) => () =>
  Response.json({ error: { message, code: -32600, data: { httpStatus: status, ...data } } }, { status });

const summary = { task: titanic, builtin: true, createdAt: 1, uploadedModel: false, parameterCount: 10, participants: 4, roundsClosed: 7, currentRound: null, latestVersion: 7 };

describe('createRemoteApi', () => {
  it('lists tasks through the typed tRPC client', async () => {
    const server = stubServer({ 'tasks.list': ok([summary]) });
    try {
      const tasks = await createRemoteApi('http://disco.test/').listTasks();
      expect(tasks).to.deep.equal([summary]);
      expect(server.requests[0].url).to.match(/^http:\/\/disco\.test\/trpc\/tasks\.list/);
    } finally {
      server.restore();
    }
  });

  it('creates a task with the admin token and the model as base64', async () => {
    const server = stubServer({ 'tasks.create': ok({ ...summary, task: { ...titanic, id: 'mine' } }) });
    try {
      const task = await createRemoteApi('http://disco.test').createTask(
        { ...titanic, id: 'mine' },
        { adminToken: 's3cret', model: { modelJson: { modelTopology: {} }, weights: new Uint8Array([1, 2, 3]).buffer } },
      );
      expect(task.id).to.equal('mine');
      const request = server.requests[0];
      expect(request.headers.get('authorization')).to.equal('Bearer s3cret');
      const body = (await request.json()) as { task: { id: string }; model: { weightsBase64: string } };
      expect(body.task.id).to.equal('mine');
      expect(body.model.weightsBase64).to.equal('AQID');
    } finally {
      server.restore();
    }
  });

  it("turns the server's refusals into DiscoApiErrors with their `path: reason` issues", async () => {
    const server = stubServer({
      'tasks.create': refusal(400, 'Invalid task', { code: 'BAD_REQUEST', apiCode: 'INVALID_TASK', issues: ['id: must be 2-63 lowercase letters'] }),
      'tasks.get': refusal(404, 'task "nope" does not exist', { code: 'NOT_FOUND', apiCode: 'NOT_FOUND', issues: null }),
    });
    try {
      const api = createRemoteApi('http://disco.test');
      const invalid = await api.createTask({ ...titanic, id: 'X' }, { adminToken: 'a' }).catch((e: unknown) => e);
      expect(invalid).to.be.instanceOf(DiscoApiError);
      expect([(invalid as DiscoApiError).code, (invalid as DiscoApiError).status]).to.deep.equal(['INVALID_TASK', 400]);
      expect((invalid as DiscoApiError).issues).to.deep.equal(['id: must be 2-63 lowercase letters']);
      const missing = (await api.getTask('nope').catch((e: unknown) => e)) as DiscoApiError;
      expect([missing.code, missing.status, missing.message]).to.deep.equal(['NOT_FOUND', 404, 'task "nope" does not exist']);
    } finally {
      server.restore();
    }
  });

  it('resolves a relative server URL against the page, one client per server', () => {
    expect(remoteApiFor('/')).to.equal(remoteApiFor(location.origin));
    expect(remoteApiFor('/')).not.to.equal(remoteApiFor('http://elsewhere.test'));
  });

  it('reports an unreachable server as a network error', async () => {
    const original = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
    try {
      const error = (await createRemoteApi('http://disco.test').listTasks().catch((e: unknown) => e)) as DiscoApiError;
      expect([error.code, error.status, error.transient]).to.deep.equal(['NETWORK', 0, true]);
      expect(error.message).to.contain('Cannot reach the Disco server at http://disco.test');
    } finally {
      globalThis.fetch = original;
    }
  });
});
