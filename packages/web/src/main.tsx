import './styles.css';
import { render } from 'preact';
import { setToken, takeToken } from './api.js';
import { App } from './app.js';
import { language, setLanguage, t } from './i18n.js';

setLanguage(language());
const root = document.getElementById('app')!;
const token = takeToken();
if (token) {
  setToken(token);
  render(<App />, root);
} else {
  // Opened without the address `kluis app` printed: nothing here may reach the host.
  render(
    <main class="center">
      <div class="card narrow">
        <h1>{t('app.name')}</h1>
        <p>{t('noToken.text')}</p>
        <pre>kluis app</pre>
      </div>
    </main>,
    root,
  );
}
