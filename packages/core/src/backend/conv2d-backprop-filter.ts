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
 * The filter gradient of a 2-D convolution, from ops that every backend has (pad, strided slice, concat,
 * matmul): for each filter tap (kh, kw), the strided window of the padded input that the tap saw is cut
 * out; the taps are laid side by side into an im2col matrix `[N·OH·OW, KH·KW·Cin]`, and one matmul with
 * `dy` as `[N·OH·OW, Cout]` gives `dW` as `[KH·KW·Cin, Cout]`, i.e. `[KH, KW, Cin, Cout]`.
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
    const [n, outH, outW] = dy.shape;
    const { top, bottom, left, right } = info.padInfo;
    const padded = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    const { strideHeight: sh, strideWidth: sw } = info;
    const taps: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        taps.push(tf.stridedSlice(padded, [0, i, j, 0], [n, i + (outH - 1) * sh + 1, j + (outW - 1) * sw + 1, cin], [1, sh, sw, 1]) as tf.Tensor4D);
    const columns = (taps.length === 1 ? taps[0] : tf.concat4d(taps, 3)).reshape([n * outH * outW, kh * kw * cin]);
    return tf.matMul(columns, dy.reshape([n * outH * outW, cout]), true, false).reshape([kh, kw, cin, cout]);
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
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc: backpropFilterKernel as tf.KernelFunc });
}
