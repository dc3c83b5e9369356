import { msg, str } from '@lit/localize';
import { css, html, nothing, type TemplateResult } from 'lit';
import { droppedFiles, pickedFiles } from './data-files.js';
import type { DataFile } from '../worker/protocol.js';

/** Options of {@link renderDropzone}. */
export interface DropzoneOptions {
  /** Prefix of the ids of the inputs, unique in the shadow root. */
  id: string;
  /** What to drop, e.g. `CSV files`. */
  hint: string;
  /** Offers a folder picker too (images labelled by folder). */
  folders: boolean;
  /** The file picker's `accept` list (e.g. `.txt,text/plain`); any file when absent. Dropped files are not filtered: the element says what is wrong with them. */
  accept?: string;
  disabled: boolean;
  onFiles: (files: DataFile[]) => void;
}

/**
 * A drop area with "Choose files" (and "Choose a folder") pickers, shared by the elements that read data.
 * Dropped folders are walked; the highlight while dragging is a class on the area, so that no element
 * state is needed. Style it with {@link dropzoneStyles}.
 */
export function renderDropzone(options: DropzoneOptions): TemplateResult {
  const { id, disabled, onFiles } = options;
  const pick = (event: Event) => {
    const input = event.target as HTMLInputElement;
    onFiles(pickedFiles(input.files ?? []));
    input.value = '';
  };
  const over = (event: DragEvent) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
    (event.currentTarget as HTMLElement).classList.add('over');
  };
  const leave = (event: DragEvent) => (event.currentTarget as HTMLElement).classList.remove('over');
  const drop = async (event: DragEvent) => {
    event.preventDefault();
    (event.currentTarget as HTMLElement).classList.remove('over');
    if (!event.dataTransfer || disabled) return;
    onFiles(await droppedFiles(event.dataTransfer));
  };
  return html`<div part="dropzone" class="dropzone" @dragover=${over} @dragleave=${leave} @drop=${drop}>
    <p>${msg(str`Drop ${options.hint} here, or choose them. They never leave this browser.`, { id: 'dropzone.hint' })}</p>
    <div class="row">
      <label class="button secondary" for="${id}-files">${msg('Choose files', { id: 'dropzone.files' })}</label>
      <input id="${id}-files" class="visually-hidden" type="file" multiple accept=${options.accept ?? nothing} ?disabled=${disabled} @change=${pick} />
      ${options.folders
        ? html`<label class="button secondary" for="${id}-folder">${msg('Choose a folder', { id: 'dropzone.folder' })}</label>
            <input id="${id}-folder" class="visually-hidden" type="file" webkitdirectory ?disabled=${disabled} @change=${pick} />`
        : nothing}
    </div>
  </div>`;
}

export const dropzoneStyles = css`
  .dropzone {
    border: 2px dashed var(--_color-border);
    border-radius: var(--_radius);
    padding: calc(var(--_space) * 2);
    text-align: center;
    background: var(--_color-surface);
  }
  .dropzone.over {
    border-color: var(--_color-primary);
  }
  .dropzone .row {
    justify-content: center;
    margin-top: var(--_space);
  }
  .dropzone input:focus-visible + label,
  label.button:has(+ input:focus-visible) {
    outline: 3px solid var(--_color-focus);
    outline-offset: 2px;
  }
`;
