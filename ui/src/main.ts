import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { applyTheme, themeState } from './lib/theme.svelte';

// The theme picked earlier, before the first paint.
applyTheme(themeState.theme);

const target = document.getElementById('app');
if (!target) throw new Error('missing #app element');

export default mount(App, { target });
