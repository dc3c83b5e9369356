import { expect } from '@open-wc/testing';
import { crc32 } from '../weights/crc32.js';
import { LocalSignalling } from '../testing/local-signalling.js';

it('two peers in one page exchange a 5 MB message over a real data channel, intact', async () => {
  const signalling = new LocalSignalling();
  const a = signalling.network('peer-a');
  const b = signalling.network('peer-b');
  try {
    expect(await a.connect(['peer-b'])).to.deep.equal({ connected: ['peer-b'], failed: [] });
    const message = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < message.length; i += 997) message[i] = i & 0xff;
    const received = new Promise<Uint8Array>((resolve) => b.once('message', (_from, m) => resolve(m)));

    await a.send('peer-b', message);

    const got = await received;
    expect(got.length).to.equal(message.length);
    expect(crc32(got)).to.equal(crc32(message));
    expect(b.stats.bytesReceived).to.equal(a.stats.bytesSent);
  } finally {
    a.close();
    b.close();
  }
});
