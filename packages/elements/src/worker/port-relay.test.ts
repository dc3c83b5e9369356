import { expect } from '@open-wc/testing';
import type { FederationApi, JoinResult, RoundState } from '@disco/core';
import { relayPort, servePorts, type PortReply, type PortRequest } from './port-relay.js';

/** A page port that records every call it gets, with the arguments as they arrived. */
function recordingFederation(): { port: FederationApi; calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  const stats = { bytesSent: 0, bytesReceived: 0 };
  const record =
    <T>(name: string, value: T) =>
    (...args: unknown[]) => {
      calls.push([name, args]);
      stats.bytesSent += 10;
      return Promise.resolve(value);
    };
  const port = {
    stats,
    join: record('join', {} as JoinResult),
    heartbeat: record('heartbeat', {} as RoundState),
    downloadWeights: record('downloadWeights', new Uint8Array([1, 2, 3])),
    submitUpdate: record('submitUpdate', { accepted: true as const, round: 1 }),
    skipRound: record('skipRound', undefined),
    leave: record('leave', undefined),
    watchRounds: (_taskId: string, _token: string, listener: (state: RoundState) => void) => {
      listener({ taskId: 't', round: 1, phase: 'masking', modelVersion: 0, participants: 3, submitted: 3, deadline: null });
      return () => undefined;
    },
    secure: {
      advertiseKeys: record('secure.advertiseKeys', undefined),
      roster: record('secure.roster', [{ id: 'a', channelKey: new Uint8Array([7]), maskKey: new Uint8Array([8]) }]),
      sendShares: record('secure.sendShares', undefined),
      sharesFor: record('secure.sharesFor', [{ from: 'b', to: 'a', ciphertext: new Uint8Array([9, 9]) }]),
      submitMasked: record('secure.submitMasked', undefined),
      unmaskRequest: record('secure.unmaskRequest', { survivors: ['a', 'b', 'c'] }),
      revealShares: record('secure.revealShares', undefined),
    },
    close: () => undefined,
  } satisfies FederationApi;
  return { port, calls };
}

/** The worker's stand-in and the page's server joined by a real MessageChannel (structured clone, as between threads). */
function relayed(page: FederationApi) {
  const channel = new MessageChannel();
  const worker = relayPort('federation', (message: PortRequest) => channel.port1.postMessage(message));
  const server = servePorts(() => page, (reply: PortReply) => channel.port2.postMessage(reply));
  channel.port1.onmessage = (event: MessageEvent<{ type: string }>) => worker.handle(event.data);
  channel.port2.onmessage = (event: MessageEvent<{ type: string }>) => server.handle(event.data);
  return { port: worker.port, close: () => (channel.port1.close(), channel.port2.close()) };
}

describe('port relay', () => {
  it('carries every step of a secure round through the `secure` sub-port, a masked input as a Uint32Array', async () => {
    const { port: page, calls } = recordingFederation();
    const { port, close } = relayed(page);
    const masked = new Uint32Array([0, 1, 0xffffffff, 123456789]);

    await port.secure.advertiseKeys('tok', 2, { channelKey: new Uint8Array([1]), maskKey: new Uint8Array([2]) });
    const roster = await port.secure.roster('tok', 2);
    await port.secure.sendShares('tok', 2, [{ from: 'a', to: 'b', ciphertext: new Uint8Array([5]) }]);
    const shares = await port.secure.sharesFor('tok', 2);
    await port.secure.submitMasked('tok', 2, masked);
    const request = await port.secure.unmaskRequest('tok', 2);
    await port.secure.revealShares('tok', 2, { selfMaskShares: [{ of: 'b', share: new Uint8Array([4]) }], maskKeyShares: [] });

    expect(calls.map(([name]) => name)).to.deep.equal([
      'secure.advertiseKeys',
      'secure.roster',
      'secure.sendShares',
      'secure.sharesFor',
      'secure.submitMasked',
      'secure.unmaskRequest',
      'secure.revealShares',
    ]);
    const [, [token, round, arrived]] = calls[4] as [string, [string, number, Uint32Array]];
    expect([token, round]).to.deep.equal(['tok', 2]);
    expect(arrived).to.be.instanceOf(Uint32Array);
    expect([...arrived]).to.deep.equal([0, 1, 0xffffffff, 123456789]);
    // Copied, not transferred: a retry of the same call still has the words to send.
    expect([...masked]).to.deep.equal([0, 1, 0xffffffff, 123456789]);
    expect(roster[0].maskKey).to.be.instanceOf(Uint8Array);
    expect([...shares[0].ciphertext]).to.deep.equal([9, 9]);
    expect(request).to.deep.equal({ survivors: ['a', 'b', 'c'] });
    // Every answer brought the page port's own count of the bytes.
    expect(port.stats).to.deep.equal({ bytesSent: 70, bytesReceived: 0 });
    close();
  });

  it('carries skipRound, and the plain calls and watches as before', async () => {
    const { port: page, calls } = recordingFederation();
    const { port, close } = relayed(page);
    await port.skipRound('tok', 3);
    const weights = await port.downloadWeights('t', 0);
    const state = await new Promise<RoundState>((resolve) => port.watchRounds('t', 'tok', resolve));
    expect(calls.slice(0, 2)).to.deep.equal([
      ['skipRound', ['tok', 3]],
      ['downloadWeights', ['t', 0]],
    ]);
    expect([...weights]).to.deep.equal([1, 2, 3]);
    expect(state.phase).to.equal('masking');
    close();
  });

  it('refuses a member that is not relayed, naming it', async () => {
    const { port: page } = recordingFederation();
    const channel = new MessageChannel();
    const server = servePorts(() => page, (reply: PortReply) => channel.port2.postMessage(reply));
    const reply = new Promise<PortReply>((resolve) => (channel.port1.onmessage = (event: MessageEvent<PortReply>) => resolve(event.data)));
    const request: PortRequest = { type: 'port-call', port: 'federation', id: 1, method: 'close', args: [] };
    server.handle(request);
    const answer = await reply;
    expect(answer.type === 'port-result' && !answer.ok && answer.error.message).to.equal('the federation port has no call "close"');
    channel.port1.close();
  });
});
