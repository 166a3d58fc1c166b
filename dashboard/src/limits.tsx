// The four rate-limit windows as form fields (empty: unlimited) and back to the API's change
// (every window named: a number, or null to clear it), for an account's plan and an SMTP user's
// own limits (PATCH /v1/accounts/:name, /v1/smtp-users/:name).

export interface Limits { perSecond?: number | null; perHour?: number | null; perDay?: number | null; perMonth?: number | null }

const WINDOWS = [['perSecond', 'second'], ['perHour', 'hour'], ['perDay', 'day'], ['perMonth', 'month']] as const;

export function LimitFields({ limits, legend }: { limits: Limits; legend: string }) {
  return (
    <fieldset><legend>{legend}</legend>
      {WINDOWS.map(([key, window]) => (
        <label key={key}>Per {window}<input name={key} type="number" min={0} step={1} inputMode="numeric" placeholder="unlimited" defaultValue={limits[key] ?? ''} /></label>
      ))}
    </fieldset>
  );
}

/** Every window from the form: a whole number, or null (empty field: unlimited). */
export function limitsFromForm(data: FormData): Required<Limits> {
  const value = (key: string) => { const v = String(data.get(key) ?? '').trim(); return v === '' ? null : Number(v); };
  return { perSecond: value('perSecond'), perHour: value('perHour'), perDay: value('perDay'), perMonth: value('perMonth') };
}

/** "10/second, 1000/day", or "unlimited". */
export const formatLimits = (limits: Limits) =>
  WINDOWS.flatMap(([key, window]) => (limits[key] == null ? [] : [`${limits[key]}/${window}`])).join(', ') || 'unlimited';
