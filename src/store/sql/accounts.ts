// The accounts' statements shared by both stores (see dialect.ts).
import { shared } from './dialect.js';

export const SET_TRACKING_DOMAIN = shared('UPDATE account SET tracking_domain = $2 WHERE name = $1');
