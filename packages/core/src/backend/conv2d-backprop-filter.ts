import * as tf from '@tensorflow/tfjs';

/** Attributes the `Conv2DBackpropFilter` kernel receives (see tfjs-core's `conv2DBackpropFilter` op). */
interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * The filter gradient of a 2-D convolution, from ops the wasm backend has (pad, transpose, a forward
 * conv2d, slice):
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} xpad[n, oh·sh + kh, ow·sw + kw, ci] · dy[n, oh, ow, co]
 *
 * is a forward convolution of xpad laid out as `[Cin, Hp, Wp, N]` (channels in the batch, examples in
 * the channels) with dy laid out as the filter `[OH, OW, N, Cout]`, at stride 1 and dilation = the
 * forward stride; its first KH × KW outputs are dW as `[Cin, KH, KW, Cout]`. The forward conv is
 * XNNPACK's in wasm: about 10× faster than cutting an im2col matrix out with strided slices.
 *
 * @param x the forward input, NHWC.
 * @param dy the gradient of the output, NHWC.
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  strides: [number, number] | number,
  pad: BackpropFilterAttrs['pad'],
  dimRoundingMode?: BackpropFilterAttrs['dimRoundingMode'],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = filterShape;
    const info = tf.backend_util.computeConv2DInfo(x.shape, [...filterShape], strides, 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const padded = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    const input = padded.transpose<tf.Tensor4D>([3, 1, 2, 0]);
    const filter = dy.transpose<tf.Tensor4D>([1, 2, 0, 3]);
    const out = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    return out.slice([0, 0, 0, 0], [cin, kh, kw, cout]).transpose<tf.Tensor4D>([1, 2, 0, 3]);
  });
}

/**
 * A `Conv2DBackpropFilter` kernel for a backend that lacks one (tfjs-backend-wasm 4.22 does: training any
 * conv layer there throws `Kernel 'Conv2DBackpropFilter' not registered`). It is composed of ops, which
 * the engine allows: a kernel may return a Tensor, and the tape is off inside kernels.
 */
function backpropFilterKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as BackpropFilterAttrs;
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  if (dataFormat === 'NCHW')
    return tf.tidy(() => conv2dFilterGradient(x.transpose([0, 2, 3, 1]), dy.transpose([0, 2, 3, 1]), filterShape, strides, pad, dimRoundingMode));
  return conv2dFilterGradient(x, dy, filterShape, strides, pad, dimRoundingMode);
}

/**
 * Registers {@link conv2dFilterGradient} as the `Conv2DBackpropFilter` kernel of `backendName` (default
 * `wasm`) unless that backend already has one. Idempotent; {@link initBackend} calls it.
 */
export function registerConv2dBackpropFilter(backendName = 'wasm'): void {
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc: backpropFilterKernel });
}
