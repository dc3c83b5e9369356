/**
 * Resolves colour tokens of an element (`chart-1` → the value of `--_chart-1`) to `rgb()`/`rgba()` strings
 * a canvas and chart.js understand, whatever the page wrote in the `--disco-*` property: a name, a hex
 * value, `light-dark(…)`, `color-mix(…)`, `oklch(…)` or another `var()`.
 *
 * Reading a custom property with `getComputedStyle` returns its text as written, which chart.js cannot
 * parse (it draws black). Here the property is applied to a probe element's `color` inside `root`, so
 * that the browser resolves it in the element's context (inherited tokens, `color-scheme`), and the
 * computed colour is read back; colours the browser computes to something other than `rgb()` (`oklch()`,
 * `color(srgb …)`) are converted by painting one pixel. A token that is not a valid colour gives the
 * element's text colour, never black by accident.
 */
export function resolveColors<N extends string>(root: Element | ShadowRoot, names: readonly N[]): Record<N, string> {
  const doc = (root as Node).ownerDocument ?? document;
  const probe = doc.createElement('span');
  probe.setAttribute('aria-hidden', 'true');
  probe.style.cssText = 'position:absolute;width:0;height:0;overflow:hidden;visibility:hidden;pointer-events:none';
  root.appendChild(probe);
  try {
    const out = {} as Record<N, string>;
    for (const name of names) {
      probe.style.setProperty('color', `var(--_${name})`);
      out[name] = toRgb(getComputedStyle(probe).color);
    }
    return out;
  } finally {
    probe.remove();
  }
}

let pixel: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null | undefined;

/** A computed colour as `rgb()`/`rgba()`; anything the browser computes differently goes through one painted pixel. */
export function toRgb(color: string): string {
  if (/^rgba?\(/.test(color)) return color;
  pixel ??= typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1).getContext('2d', { willReadFrequently: true }) : null;
  if (!pixel || !color) return color || 'rgb(136, 136, 136)';
  pixel.clearRect(0, 0, 1, 1);
  pixel.fillStyle = '#000';
  pixel.fillStyle = color;
  pixel.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = pixel.getImageData(0, 0, 1, 1).data;
  return a === 255 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${+(a / 255).toFixed(3)})`;
}
