// Who runs the relay: the operator is an admin key of the default account. Every route that shows
// or changes something across accounts (plans, breakers, alerts) asks this one question.
import { DEFAULT_ACCOUNT, type ApiKeyRecord } from '../store/platform-store.js';

export const isOperator = (key: ApiKeyRecord): boolean => key.account === DEFAULT_ACCOUNT && key.scopes.includes('admin');
