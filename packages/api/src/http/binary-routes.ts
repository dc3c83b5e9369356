import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkMaskedLength, DiscoApiError, readWeightsHeader } from '@disco/core';
import { getEncodedVersion } from '../services/models.js';
import { loadTask } from '../services/tasks.js';
import { bearerToken } from '../services/tokens.js';
import { secureContextForToken, wordsFromBody } from '../services/secure.js';
import { maxUpdateBytes, precheckUpdate, submitUpdate } from '../services/updates.js';
import type { AppDeps } from '../trpc.js';
import { BodyPool, discardBody, readBody } from './body.js';
import { sendError, sendJson } from './respond.js';

/**
 * Binary routes beside tRPC: weights never travel as JSON numbers.
 *
 * - `PUT  /v1/tasks/:taskId/rounds/:round/update`: an update (our codec), `Authorization: Bearer <participant token>`,
 *   `Content-Type: application/octet-stream` → `200 { accepted: true, round, submitted }`.
 * - `PUT  /v1/tasks/:taskId/rounds/:round/masked`: a secure round's masked input (decision 0010), d + 1 words of
 *   4 bytes, little-endian, `Authorization: Bearer <participant token>`, `application/octet-stream` → `200 { accepted: true, round }`.
 * - `GET  /v1/tasks/:taskId/models/:version|latest/weights`: a global model version (our codec, float32),
 *   with `X-Disco-Model-Version`.
 * - `GET  /v1/tasks/:taskId/models/:version|latest/model.json` and `.../weights.bin`: a standard TF.js
 *   LayersModel (`tf.loadLayersModel(url + '/model.json')` works).
 *
 * Errors are JSON `{ code, message }` with the HTTP status of the code (see `services/errors.ts`).
 */
const ROUTE = /^\/v1\/tasks\/([^/]+)\/(?:rounds\/([^/]+)\/(update|masked)|models\/([^/]+)\/(weights|model\.json|weights\.bin))$/;

export function isBinaryRoute(pathname: string): boolean {
  return pathname.startsWith('/v1/');
}

export async function handleBinaryRoute(deps: AppDeps, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  try {
    const match = ROUTE.exec(pathname);
    if (!match) throw new DiscoApiError('NOT_FOUND', `no route ${req.method} ${pathname}`);
    let taskId: string;
    try {
      taskId = decodeURIComponent(match[1]);
    } catch {
      throw new DiscoApiError('BAD_REQUEST', `malformed %-encoding in the task id of ${pathname}`);
    }
    if (match[3] === 'masked') return await putMasked(deps, req, res, taskId, match[2]);
    if (match[2] !== undefined) return await putUpdate(deps, req, res, taskId, match[2]);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      discardBody(req);
      return sendError(res, new DiscoApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here: use GET`), { allow: 'GET, HEAD' });
    }
    await getModel(deps, req, res, taskId, match[4], match[5] as 'weights' | 'model.json' | 'weights.bin');
  } catch (error) {
    discardBody(req);
    sendError(res, error);
  }
}

/** Update bodies, reused from one update to the next (see {@link BodyPool}); shared by the servers of this process. */
const updateBodies = new BodyPool();

function parseRound(text: string): number {
  const round = Number(text);
  if (!Number.isInteger(round) || round < 1 || !/^\d+$/.test(text))
    throw new DiscoApiError('BAD_REQUEST', `"${text}" is not a round number (a whole number from 1)`);
  return round;
}

async function putUpdate(deps: AppDeps, req: IncomingMessage, res: ServerResponse, taskId: string, roundText: string): Promise<void> {
  if (req.method !== 'PUT' && req.method !== 'POST') {
    discardBody(req);
    return sendError(res, new DiscoApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here: use PUT`), { allow: 'PUT, POST' });
  }
  const round = parseRound(roundText);
  const token = bearerToken(req.headers.authorization);
  // Refuse what will fail anyway before reading megabytes: task, token, scheme, round, duplicate.
  const { stored } = await precheckUpdate(deps.db, deps.coordinator, { taskId, round, token });
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream')
    throw new DiscoApiError('UNSUPPORTED_MEDIA_TYPE', `an update must be sent as application/octet-stream (the Disco weights codec), not "${type || 'no content type'}"`);
  const limit = maxUpdateBytes(stored);
  const body = await readBody(req, limit, `an update of task "${taskId}" (${stored.parameterCount} parameters)`, updateBodies);
  let result: Awaited<ReturnType<typeof submitUpdate>>;
  try {
    // The body goes back to the pool once the submission has settled: accepted (stored or summed) or refused.
    result = await submitUpdate(deps.db, deps.coordinator, { taskId, round, token, body });
  } finally {
    updateBodies.release(body);
  }
  sendJson(res, 200, { accepted: true, ...result });
}

async function putMasked(deps: AppDeps, req: IncomingMessage, res: ServerResponse, taskId: string, roundText: string): Promise<void> {
  if (req.method !== 'PUT' && req.method !== 'POST') {
    discardBody(req);
    return sendError(res, new DiscoApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here: use PUT`), { allow: 'PUT, POST' });
  }
  const input = { taskId, round: parseRound(roundText), token: bearerToken(req.headers.authorization) };
  // Refuse before reading: not secure, wrong round or step, not a member, a repeat.
  const first = await secureContextForToken(deps.db, deps.coordinator, input);
  const bytes = deps.coordinator.secure.precheckMasked(first.round, first.participantId);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream')
    throw new DiscoApiError('UNSUPPORTED_MEDIA_TYPE', `a masked input must be sent as application/octet-stream (4 bytes a word, little-endian), not "${type || 'no content type'}"`);
  const body = await readBody(req, bytes, `a masked input of task "${taskId}" (${bytes} bytes)`);
  checkMaskedLength(taskId, bytes / 4, body.byteLength / 4);
  // Checked again: the step may have closed while the body was arriving.
  const { round, participantId } = await secureContextForToken(deps.db, deps.coordinator, input);
  await deps.coordinator.secure.receiveMasked(round, participantId, wordsFromBody(body), body.byteLength);
  sendJson(res, 200, { accepted: true, round: round.number });
}

async function getModel(
  deps: AppDeps,
  req: IncomingMessage,
  res: ServerResponse,
  taskId: string,
  versionText: string,
  file: 'weights' | 'model.json' | 'weights.bin',
): Promise<void> {
  const stored = await loadTask(deps.db, taskId);
  let version: number | undefined;
  if (versionText !== 'latest') {
    version = Number(versionText);
    if (!/^\d+$/.test(versionText) || !Number.isSafeInteger(version))
      throw new DiscoApiError('BAD_REQUEST', `"${versionText}" is not a model version (a whole number, or "latest")`);
  }
  const encoded = await getEncodedVersion(deps.db, taskId, version);
  const headers = {
    'x-disco-model-version': String(encoded.version),
    // A numbered version never changes; "latest" does.
    'cache-control': version === undefined ? 'no-store' : 'public, max-age=31536000, immutable',
  };
  if (file === 'model.json') {
    if (!stored.modelTopology) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" has no TF.js model topology`);
    const modelJson = {
      ...stored.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: stored.shapes.map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' })) }],
    };
    return sendJson(res, 200, modelJson, headers);
  }
  let bytes = encoded.bytes;
  if (file === 'weights.bin') bytes = bytes.subarray(readWeightsHeader(bytes).payloadStart); // stored as float32: the payload is weights.bin
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength, ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
