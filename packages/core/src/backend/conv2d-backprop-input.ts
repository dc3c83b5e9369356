import * as tf from '@tensorflow/tfjs';

/** Attributes the `Conv2DBackpropInput` kernel receives (see tfjs-core's `conv2DBackpropInput` op). */
interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * The input gradient of a stride-1 2-D convolution (NHWC) as a forward convolution: `dy` padded by
 * `K − 1 − pad` on each side, convolved with the filter flipped in space and with its channels swapped.
 * Returns null where that does not apply (another stride, NCHW, padding wider than the filter), for the
 * caller to use the backend's own kernel.
 */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: readonly [number, number, number, number],
  strides: [number, number] | number,
  pad: BackpropInputAttrs['pad'],
  dimRoundingMode?: BackpropInputAttrs['dimRoundingMode'],
): tf.Tensor4D | null {
  const info = tf.backend_util.computeConv2DInfo([...inputShape], filter.shape, strides, 1, pad, dimRoundingMode);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const [kh, kw] = filter.shape;
  const [, outH, outW] = dy.shape;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = info.inHeight + kh - 1 - outH - top;
  const right = info.inWidth + kw - 1 - outW - left;
  if (Math.min(top, left, bottom, right) < 0) return null;
  return tf.tidy(() => {
    const padded = top || bottom || left || right ? tf.pad(dy, [[0, 0], [top, bottom], [left, right], [0, 0]]) : dy;
    const flipped = tf.reverse(filter, [0, 1]).transpose<tf.Tensor4D>([0, 1, 3, 2]);
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}

/**
 * Wraps the backend's `Conv2DBackpropInput` kernel: stride-1 NHWC cases run as {@link conv2dInputGradient}
 * (tfjs-backend-wasm 4.22's own kernel is a scalar loop; its forward conv is XNNPACK's, several times
 * faster), the rest as before. No-op for a backend without the kernel, and on a second call.
 */
export function speedUpConv2dBackpropInput(backendName = 'wasm'): void {
  const native = tf.getKernel('Conv2DBackpropInput', backendName);
  if (!native || native.kernelFunc === wrapped.get(backendName)) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
    const dy = args.inputs.dy as tf.Tensor4D;
    const filter = args.inputs.filter as tf.Tensor4D;
    const fast = dataFormat === 'NCHW' ? null : conv2dInputGradient(dy, filter, inputShape, strides, pad, dimRoundingMode);
    return fast ?? native.kernelFunc(args);
  };
  wrapped.set(backendName, kernelFunc);
  tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel({ ...native, kernelFunc });
}

const wrapped = new Map<string, tf.KernelFunc>();
