// Worker side of the WebRTC relay. Workers have no RTCPeerConnection, yet the decentralized client (core's
// DecentralizedClient, its PeerNetwork and simple-peer) runs here, beside the training. It is given these
// stand-ins as its `wrtc` implementation: each call is posted to the main thread, where `RtcRelay` runs it
// on a real RTCPeerConnection, and the real connection's events and state come back. Data-channel messages
// cross as transferred ArrayBuffers. Only what simple-peer uses of the WebRTC API for data channels is here.
import type { WrtcImplementation } from '@disco/core';
import { deserializeError, type RtcMethod, type RtcState, type RtcToPage, type RtcToWorker } from './protocol.js';

type Post = (message: RtcToPage, transfer?: Transferable[]) => void;
type Handler<E = unknown> = ((event: E) => void) | null;

const initialState: RtcState = {
  signalingState: 'stable',
  iceConnectionState: 'new',
  iceGatheringState: 'new',
  connectionState: 'new',
  localDescription: null,
  remoteDescription: null,
};

/** An SDP offer or answer, as plain data (the stand-in of `RTCSessionDescription`). */
class RelayedSessionDescription implements RTCSessionDescriptionInit {
  type: RTCSdpType;
  sdp?: string;
  constructor(init: RTCSessionDescriptionInit) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
}

/** An ICE candidate, as plain data (the stand-in of `RTCIceCandidate`); `address` as simple-peer reads it. */
class RelayedIceCandidate implements RTCIceCandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
  constructor(init: RTCIceCandidateInit) {
    this.candidate = init.candidate;
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
    this.usernameFragment = init.usernameFragment ?? null;
  }
  get address(): string | undefined {
    return this.candidate?.split(' ')[4];
  }
}

/**
 * The worker's WebRTC: stand-ins for `RTCPeerConnection`, `RTCSessionDescription` and `RTCIceCandidate`
 * whose real connections live on the main thread. `handle` routes the main thread's answers and events;
 * it returns whether the message was one of them.
 */
export function createRelayedWrtc(post: Post): { wrtc: WrtcImplementation; handle(message: { type: string }): boolean } {
  let connections = 0;
  let channels = 0;
  let calls = 0;
  const pcs = new Map<number, RelayedPeerConnection>();
  const dataChannels = new Map<string, RelayedDataChannel>();
  const pending = new Map<number, { pc: RelayedPeerConnection; resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  class RelayedDataChannel {
    binaryType: BinaryType = 'arraybuffer';
    readyState: RTCDataChannelState;
    onopen: Handler = null;
    onclose: Handler = null;
    onmessage: Handler<{ data: ArrayBuffer }> = null;
    onerror: Handler<{ error: Error; message: string }> = null;
    onbufferedamountlow: Handler = null;
    #threshold = 0;
    /** Bytes posted to the main thread that it has not yet handed to the real channel. */
    #inFlight = 0;
    /** The real channel's `bufferedAmount`, as last reported. */
    #buffered = 0;

    constructor(
      readonly id: string,
      readonly label: string,
      readyState: RTCDataChannelState,
    ) {
      this.readyState = readyState;
      dataChannels.set(id, this);
    }

    get bufferedAmount(): number {
      return this.#inFlight + this.#buffered;
    }

    get bufferedAmountLowThreshold(): number {
      return this.#threshold;
    }
    set bufferedAmountLowThreshold(threshold: number) {
      this.#threshold = threshold;
      post({ type: 'rtc-channel-threshold', channel: this.id, threshold });
    }

    send(data: ArrayBufferView | ArrayBuffer | string): void {
      if (this.readyState !== 'open') throw new DOMException(`the data channel is ${this.readyState}`, 'InvalidStateError');
      const bytes =
        typeof data === 'string'
          ? new TextEncoder().encode(data)
          : data instanceof ArrayBuffer
            ? new Uint8Array(data.slice(0))
            : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      this.#inFlight += bytes.byteLength;
      post({ type: 'rtc-send', channel: this.id, data: bytes.buffer }, [bytes.buffer]);
    }

    close(): void {
      if (this.readyState === 'closed') return;
      this.readyState = 'closing';
      post({ type: 'rtc-channel-close', channel: this.id });
    }

    /** The real channel took `bytes` more, and now buffers `buffered`. */
    sent(bytes: number, buffered: number): void {
      this.#update(() => {
        this.#inFlight -= bytes;
        this.#buffered = buffered;
      });
    }

    event(message: Extract<RtcToWorker, { type: 'rtc-channel-event' }>): void {
      this.readyState = message.readyState;
      switch (message.event) {
        case 'open':
          return this.onopen?.(new Event('open'));
        case 'close':
          dataChannels.delete(this.id);
          return this.onclose?.(new Event('close'));
        case 'error':
          return this.onerror?.({ error: new Error(message.message ?? 'data channel error'), message: message.message ?? '' });
        case 'bufferedamountlow':
          return this.#update(() => (this.#buffered = message.bufferedAmount));
      }
    }

    /** Applies a change of the buffered amounts; fires `bufferedamountlow` when it crosses the threshold downwards. */
    #update(change: () => void): void {
      const before = this.bufferedAmount;
      change();
      if (before > this.#threshold && this.bufferedAmount <= this.#threshold) this.onbufferedamountlow?.(new Event('bufferedamountlow'));
    }
  }

  class RelayedPeerConnection {
    readonly id = ++connections;
    signalingState: RTCSignalingState = initialState.signalingState;
    iceConnectionState: RTCIceConnectionState = initialState.iceConnectionState;
    iceGatheringState: RTCIceGatheringState = initialState.iceGatheringState;
    connectionState: RTCPeerConnectionState = initialState.connectionState;
    localDescription: RTCSessionDescriptionInit | null = null;
    remoteDescription: RTCSessionDescriptionInit | null = null;
    onicecandidate: Handler<{ candidate: RelayedIceCandidate | null }> = null;
    oniceconnectionstatechange: Handler = null;
    onicegatheringstatechange: Handler = null;
    onconnectionstatechange: Handler = null;
    onsignalingstatechange: Handler = null;
    ondatachannel: Handler<{ channel: RelayedDataChannel }> = null;
    ontrack: Handler = null;
    #closed = false;

    constructor(config: RTCConfiguration = {}) {
      pcs.set(this.id, this);
      // Only plain data crosses: the ICE servers (certificates are not used by the transport).
      post({ type: 'rtc-create', pc: this.id, config: { iceServers: config.iceServers ?? [] } });
    }

    createDataChannel(label: string, init: RTCDataChannelInit = {}): RelayedDataChannel {
      const channel = new RelayedDataChannel(`w${++channels}`, label, 'connecting');
      post({ type: 'rtc-channel-create', pc: this.id, channel: channel.id, label, init });
      return channel;
    }

    createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
      return this.#call('createOffer', options ? [options] : []) as Promise<RTCSessionDescriptionInit>;
    }

    createAnswer(options?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit> {
      return this.#call('createAnswer', options ? [options] : []) as Promise<RTCSessionDescriptionInit>;
    }

    async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
      await this.#call('setLocalDescription', [{ type: description.type, sdp: description.sdp }]);
    }

    async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      await this.#call('setRemoteDescription', [{ type: description.type, sdp: description.sdp }]);
    }

    async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
      const { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } = candidate;
      await this.#call('addIceCandidate', [{ candidate: line, sdpMid, sdpMLineIndex, usernameFragment }]);
    }

    /** The standard, promise-based form (no arguments: simple-peer checks `getStats.length`). */
    getStats(): Promise<Record<string, unknown>[]> {
      return this.#call('getStats', []) as Promise<Record<string, unknown>[]>;
    }

    close(): void {
      if (this.#closed) return;
      this.#closed = true;
      this.signalingState = 'closed';
      this.connectionState = 'closed';
      this.iceConnectionState = 'closed';
      pcs.delete(this.id);
      for (const [id, p] of pending) {
        if (p.pc !== this) continue;
        pending.delete(id);
        p.reject(new DOMException('the peer connection was closed', 'InvalidStateError'));
      }
      post({ type: 'rtc-close', pc: this.id });
    }

    apply(state: RtcState): void {
      if (this.#closed) return;
      Object.assign(this, state);
    }

    event(message: Extract<RtcToWorker, { type: 'rtc-event' }>): void {
      this.apply(message.state);
      switch (message.event) {
        case 'icecandidate':
          return this.onicecandidate?.({ candidate: message.candidate ? new RelayedIceCandidate(message.candidate) : null });
        case 'iceconnectionstatechange':
          return this.oniceconnectionstatechange?.(new Event(message.event));
        case 'icegatheringstatechange':
          return this.onicegatheringstatechange?.(new Event(message.event));
        case 'connectionstatechange':
          return this.onconnectionstatechange?.(new Event(message.event));
        case 'signalingstatechange':
          return this.onsignalingstatechange?.(new Event(message.event));
      }
    }

    dataChannel(message: Extract<RtcToWorker, { type: 'rtc-datachannel' }>): void {
      this.apply(message.state);
      const channel = new RelayedDataChannel(message.channel, message.label, message.readyState);
      this.ondatachannel?.({ channel });
    }

    #call(method: RtcMethod, args: unknown[]): Promise<unknown> {
      if (this.#closed) return Promise.reject(new DOMException('the peer connection is closed', 'InvalidStateError'));
      const id = ++calls;
      return new Promise((resolve, reject) => {
        pending.set(id, { pc: this, resolve, reject });
        post({ type: 'rtc-call', pc: this.id, id, method, args });
      });
    }
  }

  const handle = (message: { type: string }): boolean => {
    if (!message.type.startsWith('rtc-')) return false;
    const m = message as RtcToWorker;
    switch (m.type) {
      case 'rtc-result': {
        const call = pending.get(m.id);
        if (!call) return true;
        pending.delete(m.id);
        call.pc.apply(m.state);
        if (m.ok) call.resolve(m.value);
        else call.reject(deserializeError(m.error));
        return true;
      }
      case 'rtc-event':
        pcs.get(m.pc)?.event(m);
        return true;
      case 'rtc-datachannel':
        pcs.get(m.pc)?.dataChannel(m);
        return true;
      case 'rtc-channel-event':
        dataChannels.get(m.channel)?.event(m);
        return true;
      case 'rtc-message': {
        const channel = dataChannels.get(m.channel);
        if (channel?.readyState === 'open') channel.onmessage?.({ data: m.data });
        return true;
      }
      case 'rtc-sent':
        dataChannels.get(m.channel)?.sent(m.bytes, m.bufferedAmount);
        return true;
    }
    return true;
  };

  return {
    wrtc: { RTCPeerConnection: RelayedPeerConnection, RTCSessionDescription: RelayedSessionDescription, RTCIceCandidate: RelayedIceCandidate },
    handle,
  };
}
