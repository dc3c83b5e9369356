import { serializeError, type RtcState, type RtcToPage, type RtcToWorker } from './protocol.js';

type Post = (message: RtcToWorker, transfer?: Transferable[]) => void;

/**
 * Main-thread side of the WebRTC relay (the worker side is `relayed-wrtc.ts`): owns the real
 * `RTCPeerConnection`s and data channels of a training worker, runs the worker's calls on them, and posts
 * their answers, events and received messages back. It does no work of its own beyond that, so the page
 * stays responsive: framing, integrity checks, aggregation and training all happen in the worker.
 */
export class RtcRelay {
  private readonly connections = new Map<number, RTCPeerConnection>();
  private readonly channels = new Map<string, { channel: RTCDataChannel; pc: number }>();
  private received = 0;

  constructor(private readonly post: Post) {}

  /** Runs a worker's WebRTC message; returns whether it was one. */
  handle(message: { type: string }): boolean {
    if (!message.type.startsWith('rtc-')) return false;
    const m = message as RtcToPage;
    switch (m.type) {
      case 'rtc-create':
        this.create(m.pc, m.config);
        break;
      case 'rtc-call':
        void this.call(m);
        break;
      case 'rtc-close':
        this.closeConnection(m.pc);
        break;
      case 'rtc-channel-create': {
        const pc = this.connections.get(m.pc);
        if (pc) this.watchChannel(m.pc, m.channel, pc.createDataChannel(m.label, m.init));
        break;
      }
      case 'rtc-channel-threshold': {
        const entry = this.channels.get(m.channel);
        if (entry) entry.channel.bufferedAmountLowThreshold = m.threshold;
        break;
      }
      case 'rtc-send': {
        const entry = this.channels.get(m.channel);
        if (!entry || entry.channel.readyState !== 'open') break;
        try {
          entry.channel.send(m.data);
        } catch (error) {
          this.channelEvent(m.channel, entry.channel, 'error', error instanceof Error ? error.message : String(error));
          break;
        }
        this.post({ type: 'rtc-sent', channel: m.channel, bytes: m.data.byteLength, bufferedAmount: entry.channel.bufferedAmount });
        break;
      }
      case 'rtc-channel-close':
        this.channels.get(m.channel)?.channel.close();
        break;
    }
    return true;
  }

  /** Closes every connection (the worker ended). */
  closeAll(): void {
    for (const id of [...this.connections.keys()]) this.closeConnection(id);
  }

  /** Open connections now (tests). */
  get size(): number {
    return this.connections.size;
  }

  private create(id: number, config: RTCConfiguration): void {
    const pc = new RTCPeerConnection(config);
    this.connections.set(id, pc);
    const event = (name: Extract<RtcToWorker, { type: 'rtc-event' }>['event']) => () => this.post({ type: 'rtc-event', pc: id, event: name, state: stateOf(pc) });
    pc.onicecandidate = (e) => this.post({ type: 'rtc-event', pc: id, event: 'icecandidate', candidate: e.candidate ? e.candidate.toJSON() : null, state: stateOf(pc) });
    pc.oniceconnectionstatechange = event('iceconnectionstatechange');
    pc.onicegatheringstatechange = event('icegatheringstatechange');
    pc.onconnectionstatechange = event('connectionstatechange');
    pc.onsignalingstatechange = event('signalingstatechange');
    pc.ondatachannel = (e) => {
      const channel = `p${++this.received}`;
      this.watchChannel(id, channel, e.channel);
      this.post({ type: 'rtc-datachannel', pc: id, channel, label: e.channel.label, readyState: e.channel.readyState, state: stateOf(pc) });
    };
  }

  private async call(m: Extract<RtcToPage, { type: 'rtc-call' }>): Promise<void> {
    const pc = this.connections.get(m.pc);
    try {
      if (!pc) throw new DOMException('the peer connection is closed', 'InvalidStateError');
      let value: unknown;
      switch (m.method) {
        case 'createOffer':
          value = plainDescription(await pc.createOffer(m.args[0] as RTCOfferOptions | undefined));
          break;
        case 'createAnswer':
          value = plainDescription(await pc.createAnswer(m.args[0] as RTCAnswerOptions | undefined));
          break;
        case 'setLocalDescription':
          await pc.setLocalDescription(m.args[0] as RTCSessionDescriptionInit);
          break;
        case 'setRemoteDescription':
          await pc.setRemoteDescription(m.args[0] as RTCSessionDescriptionInit);
          break;
        case 'addIceCandidate':
          await pc.addIceCandidate(m.args[0] as RTCIceCandidateInit);
          break;
        case 'getStats': {
          const reports: Record<string, unknown>[] = [];
          (await pc.getStats()).forEach((report: Record<string, unknown>) => reports.push({ ...report }));
          value = reports;
          break;
        }
      }
      this.post({ type: 'rtc-result', id: m.id, ok: true, value, state: stateOf(pc) });
    } catch (error) {
      this.post({ type: 'rtc-result', id: m.id, ok: false, error: serializeError(error), state: pc ? stateOf(pc) : closedState });
    }
  }

  private watchChannel(pc: number, id: string, channel: RTCDataChannel): void {
    channel.binaryType = 'arraybuffer';
    this.channels.set(id, { channel, pc });
    channel.onopen = () => this.channelEvent(id, channel, 'open');
    channel.onclose = () => {
      this.channels.delete(id);
      this.channelEvent(id, channel, 'close');
    };
    channel.onerror = (e) => this.channelEvent(id, channel, 'error', (e).error?.message ?? 'data channel error');
    channel.onbufferedamountlow = () => this.channelEvent(id, channel, 'bufferedamountlow');
    channel.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      const data = typeof e.data === 'string' ? (new TextEncoder().encode(e.data).buffer) : e.data;
      this.post({ type: 'rtc-message', channel: id, data }, [data]);
    };
  }

  private channelEvent(id: string, channel: RTCDataChannel, event: 'open' | 'close' | 'error' | 'bufferedamountlow', message?: string): void {
    this.post({ type: 'rtc-channel-event', channel: id, event, readyState: channel.readyState, bufferedAmount: channel.bufferedAmount, ...(message && { message }) });
  }

  private closeConnection(id: number): void {
    const pc = this.connections.get(id);
    if (!pc) return;
    this.connections.delete(id);
    for (const entry of this.channels.values()) if (entry.pc === id) entry.channel.close();
    pc.close();
  }
}

const closedState: RtcState = {
  signalingState: 'closed',
  iceConnectionState: 'closed',
  iceGatheringState: 'complete',
  connectionState: 'closed',
  localDescription: null,
  remoteDescription: null,
};

function plainDescription(description: RTCSessionDescriptionInit | null): RTCSessionDescriptionInit | null {
  return description ? { type: description.type, sdp: description.sdp } : null;
}

function stateOf(pc: RTCPeerConnection): RtcState {
  return {
    signalingState: pc.signalingState,
    iceConnectionState: pc.iceConnectionState,
    iceGatheringState: pc.iceGatheringState,
    connectionState: pc.connectionState,
    localDescription: plainDescription(pc.localDescription),
    remoteDescription: plainDescription(pc.remoteDescription),
  };
}
