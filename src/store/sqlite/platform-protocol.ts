// The store operations of the platform store (accounts, keys, quotas, events, webhooks,
// idempotency), split by whether they write (group commit) or only read (read-only connection).
// protocol.ts appends them to its WRITE_OPS / READ_OPS.

export const PLATFORM_WRITE_OPS = [
  'addAccount', 'removeAccount', 'setAccountLimits', 'setAccountTrackingDomain', 'setUserLimits', 'setUserDefaultStream', 'addApiKey', 'revokeApiKey', 'touchApiKey', 'consumeQuota',
  'reserveIdempotencyKey', 'completeIdempotencyKey', 'releaseIdempotencyKey', 'purgeIdempotencyKeys',
  'appendEvents', 'purgeEvents',
  'addWebhook', 'removeWebhook', 'setWebhookEnabled', 'claimWebhookBatches', 'recordWebhookAttempt',
  'addSuppressions', 'removeSuppression', 'compactStats', 'addSecret', 'resumeBreaker',
  'addTlsOutcomes', 'claimTlsReport', 'finishTlsReport', 'purgeTlsReports',
  'recordSuspension',
  'addSource', 'setSourceState', 'takeWarmup', 'purgeWarmup', 'postponeJobs',
  'addDashboardUser', 'removeDashboardUser', 'setDashboardPassword', 'createDashboardSession', 'touchDashboardSession', 'deleteDashboardSession',
  'replayWebhookEvents',
] as const;

export const PLATFORM_READ_OPS = [
  'getAccount', 'listAccounts', 'getApiKey', 'listApiKeys', 'quotaUsage',
  'listEvents', 'getMessageMeta', 'searchMessages',
  'listWebhooks', 'getWebhook', 'listWebhookAttempts',
  'listSuppressions', 'findSuppressions', 'readStats', 'getSecrets', 'listBreakers',
  'readTlsOutcomes', 'listTlsReports',
  'listSuspensions',
  'listSources', 'readWarmup',
  'getDashboardUser', 'listDashboardUsers', 'getDashboardSession', 'queueOverview', 'queueDepth',
] as const;
