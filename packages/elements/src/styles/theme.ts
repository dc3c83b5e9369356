import { css, unsafeCSS } from 'lit';

/**
 * Colour tokens. Each element exposes them as `--disco-*` custom properties that a page may set on the
 * element or any ancestor; the values below are the fallbacks. Every pair keeps a contrast of at least
 * 4.5:1 for text (WCAG AA), which the accessibility tests check.
 */
const light = {
  'color-bg': '#ffffff',
  'color-surface': '#f5f7fa',
  'color-text': '#1c2128',
  'color-muted': '#57606a',
  'color-border': '#8c959f',
  'color-primary': '#1f5fbf',
  'color-on-primary': '#ffffff',
  'color-success': '#1a7f37',
  'color-danger': '#b42318',
  'color-warning': '#8a5a00',
  'color-focus': '#1f5fbf',
  'chart-1': '#1f5fbf',
  'chart-2': '#c2410c',
  'chart-3': '#1a7f37',
  'chart-4': '#7c3aed',
};

const dark: typeof light = {
  'color-bg': '#0d1117',
  'color-surface': '#161b22',
  'color-text': '#e6edf3',
  'color-muted': '#9da7b3',
  'color-border': '#6e7681',
  'color-primary': '#6ea8fe',
  'color-on-primary': '#0d1117',
  'color-success': '#56d364',
  'color-danger': '#ff7b72',
  'color-warning': '#e3b341',
  'color-focus': '#6ea8fe',
  'chart-1': '#6ea8fe',
  'chart-2': '#ffa657',
  'chart-3': '#56d364',
  'chart-4': '#d2a8ff',
};

/** `--_x: var(--disco-x, fallback)` for every token: rules use the private `--_x`, pages set `--disco-x`. */
const tokens = (palette: typeof light) =>
  unsafeCSS(
    Object.entries(palette)
      .map(([name, value]) => `--_${name}: var(--disco-${name}, ${value});`)
      .join('\n'),
  );

/**
 * The theme every element includes first. `theme="dark"` or `theme="light"` on an element forces a
 * palette (and the `color-scheme`, so that a page's `light-dark()` values follow it); without it the
 * element follows the user's `prefers-color-scheme`.
 *
 * @cssproperty --disco-font-family - Font of the element (inherits the page's by default).
 * @cssproperty --disco-radius - Corner radius of boxes and controls.
 * @cssproperty --disco-spacing - Base spacing unit.
 * @cssproperty --disco-color-bg - Background.
 * @cssproperty --disco-color-surface - Background of cards, tables and inputs.
 * @cssproperty --disco-color-text - Text.
 * @cssproperty --disco-color-muted - Secondary text.
 * @cssproperty --disco-color-border - Borders.
 * @cssproperty --disco-color-primary - Buttons, links, progress bars.
 * @cssproperty --disco-color-on-primary - Text on primary.
 * @cssproperty --disco-color-success - Good outcomes.
 * @cssproperty --disco-color-danger - Errors.
 * @cssproperty --disco-color-warning - Warnings.
 * @cssproperty --disco-color-focus - The focus ring.
 */
export const themeStyles = css`
  :host {
    ${tokens(light)}
    --_radius: var(--disco-radius, 6px);
    --_space: var(--disco-spacing, 0.5rem);
    display: block;
    box-sizing: border-box;
    color: var(--_color-text);
    background: var(--_color-bg);
    font-family: var(--disco-font-family, inherit);
    line-height: 1.5;
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${tokens(dark)}
    }
  }
  :host([theme='dark']) {
    ${tokens(dark)}
    color-scheme: dark;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([hidden]) {
    display: none;
  }
`;
