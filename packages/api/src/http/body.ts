import type { IncomingMessage } from 'node:http';
import { DiscoApiError } from '@disco/core';

/**
 * Reads a request body of at most `limit` bytes. A larger one (by its Content-Length, before reading
 * anything, or while streaming) is refused with PAYLOAD_TOO_LARGE, `describe` saying what the limit is for.
 */
export function readBody(req: IncomingMessage, limit: number, describe: string): Promise<Uint8Array> {
  const tooLarge = (size: string) => new DiscoApiError('PAYLOAD_TOO_LARGE', `${size} exceeds the limit of ${limit} bytes for ${describe}`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(`the body of ${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | null, value?: Uint8Array) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(tooLarge('the body'));
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      // One chunk (a small update) is the body as it is: no copy.
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      finish(null, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    });
    req.once('error', (error) => finish(new DiscoApiError('BAD_REQUEST', `the request body could not be read: ${error.message}`)));
    req.once('aborted', () => finish(new DiscoApiError('BAD_REQUEST', 'the client aborted the request')));
  });
}

/**
 * After an early refusal, the rest of a body is not wanted: discard what keeps arriving (up to a cap,
 * then close the connection) so that the client still reads the answer.
 */
export function discardBody(req: IncomingMessage, cap = 64 * 1024 * 1024): void {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > cap) req.socket.destroy();
  });
  req.resume();
}
