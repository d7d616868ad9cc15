import { InitialSchema1764086400000 } from './1764086400000-initial-schema';

/** In order. A landed migration is never edited; a change is a new file. */
export const migrations = [InitialSchema1764086400000];
