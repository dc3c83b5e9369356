// The elements' language: English in the sources (`msg()` calls), other languages in src/locales/<lang>.ts,
// chosen by the page's `<html lang>` and followed when it changes. @lit/localize in runtime mode; every
// message has an explicit id, so a catalogue is a plain map from id to translation (see the README,
// "Languages", for adding one).
import { configureLocalization, type LocaleModule } from '@lit/localize';
import { templates as fr } from './locales/fr.js';

/** The language of the sources. */
export const sourceLocale = 'en';

/** The catalogues shipped, by language tag. */
const catalogues: Record<string, LocaleModule> = { fr: { templates: fr } };

/** Every language the elements speak: the source's and the catalogues'. */
export const locales: readonly string[] = [sourceLocale, ...Object.keys(catalogues)];

/**
 * @lit/localize is configured once per copy of it. When the page's own code shares that copy (a bundler app
 * that localizes itself with it) and configured it first, the page's locale and catalogues govern: a message
 * of the elements missing from them shows in English.
 */
function configure(): ReturnType<typeof configureLocalization> | undefined {
  try {
    return configureLocalization({ sourceLocale, targetLocales: Object.keys(catalogues), loadLocale: (locale) => Promise.resolve(catalogues[locale]) });
  } catch {
    console.warn('@lit/localize was configured by the page: the Disco elements follow its locale, in English where its catalogues lack their messages.');
    return undefined;
  }
}
const runtime = configure();

/** The shipped language for a language tag: `fr-CA` → `fr`; an unknown or empty tag → English. */
export function localeFor(tag: string | null | undefined): string {
  const wanted = (tag ?? '').trim().toLowerCase();
  if (locales.includes(wanted)) return wanted;
  const primary = wanted.split('-')[0];
  return locales.includes(primary) ? primary : sourceLocale;
}

let ready: Promise<void> = Promise.resolve();

/** Resolves once the elements speak the page's current language (the catalogue loads asynchronously). */
export function localeReady(): Promise<void> {
  return ready;
}

/** The language the elements speak now. */
export function getLocale(): string {
  return runtime ? runtime.getLocale() : sourceLocale;
}

function followPage(): void {
  const locale = localeFor(document.documentElement.lang);
  if (runtime && locale !== runtime.getLocale()) ready = runtime.setLocale(locale);
}

if (runtime && typeof document !== 'undefined') {
  followPage();
  new MutationObserver(followPage).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
}
