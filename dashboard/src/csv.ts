// CSV for the suppression import/export: RFC 4180 quoting, a header row, and a parser that accepts
// quoted fields with commas, doubled quotes and CRLF line ends. Cells that a spreadsheet would run as
// a formula (=, +, -, @) are prefixed with ' on export.
export function toCsv(header: string[], rows: (string | null)[][]): string {
  return [header, ...rows].map((r) => r.map(quoteCell).join(',')).join('\r\n') + '\r\n';
}

function quoteCell(value: string | null): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((x) => x.trim() !== ''));
}

/** The addresses (and optional scope, detail) of an imported CSV: a header row naming "email" is skipped. */
export function suppressionsFromCsv(text: string): { email: string; scope?: string; detail?: string }[] {
  const rows = parseCsv(text);
  const head = rows[0]?.map((h) => h.trim().toLowerCase()) ?? [];
  const hasHeader = head.includes('email');
  const col = (name: string, fallback: number) => (hasHeader ? head.indexOf(name) : fallback);
  const [e, s, d] = [col('email', 0), col('scope', -1), col('detail', -1)];
  return rows.slice(hasHeader ? 1 : 0).map((r) => ({
    email: (r[e] ?? '').trim(),
    ...(s >= 0 && r[s]?.trim() ? { scope: r[s].trim() } : {}),
    ...(d >= 0 && r[d]?.trim() ? { detail: r[d].trim() } : {}),
  })).filter((x) => x.email);
}
