// Light/dark theme: follows prefers-color-scheme until the user picks one with the toggle; the
// choice is kept in localStorage and applied as data-theme on <html> (CSS variables do the rest).
export type Theme = 'light' | 'dark';
const KEY = 'postlane.theme';

export function initialTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme, remember: boolean): void {
  document.documentElement.dataset.theme = theme;
  if (remember) localStorage.setItem(KEY, theme);
}
