import { expect } from '@open-wc/testing';
import { PeerConnection, type PeerSignal } from '@disco/core';
import { createRelayedWrtc } from './relayed-wrtc.js';
import { RtcRelay } from './rtc-relay.js';
import type { RtcToPage, RtcToWorker } from './protocol.js';

/**
 * The relay as the elements use it, with a MessageChannel in place of the worker boundary (asynchronous,
 * structured clone, transfers): the stand-ins on one port, the real connections on the other.
 */
function relayPair(): { wrtc: ReturnType<typeof createRelayedWrtc>['wrtc']; relay: RtcRelay; close(): void } {
  const { port1: workerPort, port2: pagePort } = new MessageChannel();
  const side = createRelayedWrtc((message: RtcToPage, transfer = []) => workerPort.postMessage(message, transfer));
  const relay = new RtcRelay((message: RtcToWorker, transfer = []) => pagePort.postMessage(message, transfer));
  workerPort.onmessage = (event) => side.handle(event.data as RtcToWorker);
  pagePort.onmessage = (event) => relay.handle(event.data as RtcToPage);
  return {
    wrtc: side.wrtc,
    relay,
    close: () => {
      relay.closeAll();
      workerPort.close();
      pagePort.close();
    },
  };
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) >>> 0;
  return sum;
}

describe('WebRTC relay (worker stand-ins ↔ page connections)', () => {
  it('connects two of core’s PeerConnections and carries a 6 MB message intact, with back-pressure', async function () {
    this.timeout(30_000);
    const a = relayPair();
    const b = relayPair();
    const peers: Record<string, PeerConnection> = {};
    const signal = (to: string) => (s: PeerSignal) => void Promise.resolve().then(() => peers[to].handleSignal(s));
    peers.a = new PeerConnection({ localId: 'a', remoteId: 'b', sendSignal: signal('b'), wrtc: a.wrtc, connectTimeoutMs: 10_000 });
    peers.b = new PeerConnection({ localId: 'b', remoteId: 'a', sendSignal: signal('a'), wrtc: b.wrtc, connectTimeoutMs: 10_000 });
    try {
      await Promise.all([peers.a.connect(), peers.b.connect()]);
      expect(a.relay.size).to.equal(1);
      const message = new Uint8Array(6 * 1024 * 1024);
      for (let i = 0; i < message.length; i += 997) message[i] = i % 251;
      const received = new Promise<Uint8Array>((resolve) => peers.b.on('message', resolve));
      await peers.a.send(message);
      const got = await received;
      expect(got.length).to.equal(message.length);
      expect(checksum(got)).to.equal(checksum(message));
      expect(peers.a.stats.bytesSent).to.be.greaterThan(message.length);
      // Replies go the other way on the same channel.
      const back = new Promise<Uint8Array>((resolve) => peers.a.on('message', resolve));
      await peers.b.send(new Uint8Array([1, 2, 3]));
      expect([...(await back)]).to.deep.equal([1, 2, 3]);
      // Closing on one side is seen on the other.
      const closed = new Promise<string>((resolve) => peers.b.on('close', resolve));
      peers.a.close();
      expect(await closed).to.be.a('string');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(a.relay.size).to.equal(0);
    } finally {
      peers.a.close();
      peers.b.close();
      a.close();
      b.close();
    }
  });
});
