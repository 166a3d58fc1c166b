// The accounts' and users' statements shared by both stores (see dialect.ts).
import { shared } from './dialect.js';

export const SET_USER_STREAM = shared('UPDATE smtp_user SET default_stream = $2 WHERE name = $1');
export const SET_TRACKING_DOMAIN = shared('UPDATE account SET tracking_domain = $2 WHERE name = $1');
