import { type Messages, en } from './en.js';

export type { Messages } from './en.js';

/** The catalogues by language tag; a translation adds its file here. */
export const catalogues: Readonly<Record<string, Messages>> = { en };

/** The catalogue the pages use. */
export const messages: Messages = en;
