// Account (tenant) names: what the CLI accepts and the store keys rows by. Lower-case so that
// 'Acme' and 'acme' can never be two tenants; no ':' or '/' so quota counter keys
// ('account:<name>/<window>') stay unambiguous.
export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const isValidAccountName = (name: string): boolean => ACCOUNT_NAME.test(name);
