// Entry point: applies the theme before the first paint and mounts the app.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.js';
import { applyTheme, initialTheme } from './theme.js';

applyTheme(initialTheme(), false);
render(<App />, document.getElementById('app')!);
