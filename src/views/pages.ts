import { type SafeHtml, html } from './html.js';

export const STYLESHEET_PATH = '/static/tessera.css';

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title}</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
      </head>
      <body>
        <main class="card">${body}</main>
      </body>
    </html> `.value;
}

export interface FormState {
  /** Sealed authorization request (hidden field). */
  readonly txn: string;
  /** Double-submit CSRF token (hidden field, matched against its cookie). */
  readonly csrf: string;
}

function hiddenFields(f: FormState): SafeHtml {
  return html`<input type="hidden" name="txn" value="${f.txn}" />
    <input type="hidden" name="csrf" value="${f.csrf}" />`;
}

export function loginPage(
  f: FormState & { clientName: string; email?: string | undefined; error?: string | undefined },
): string {
  return layout(
    `Sign in — ${f.clientName}`,
    html`<h1>Sign in</h1>
      <p class="lead">to continue to <strong>${f.clientName}</strong></p>
      ${f.error ? html`<p class="error" role="alert" aria-live="assertive">${f.error}</p>` : ''}
      <form method="post" action="/oauth/authorize">
        ${hiddenFields(f)}
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value="${f.email ?? ''}"
          ${f.email ? '' : html`autofocus`}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          ${f.email ? html`autofocus` : ''}
        />
        <button type="submit">Sign in</button>
      </form>`,
  );
}

export function tenantPickerPage(
  f: FormState & { clientName: string; tenants: readonly { id: string; name: string }[] },
): string {
  return layout(
    `Choose an organisation — ${f.clientName}`,
    html`<h1>Choose an organisation</h1>
      <p class="lead">for <strong>${f.clientName}</strong></p>
      <form method="post" action="/oauth/authorize">
        ${hiddenFields(f)}
        <fieldset>
          <legend>Organisation</legend>
          ${f.tenants.map(
            (t, i) =>
              html`<label class="choice"
                ><input
                  type="radio"
                  name="tenant"
                  value="${t.id}"
                  ${i === 0 ? html`checked` : ''}
                />
                ${t.name}</label
              >`,
          )}
        </fieldset>
        <button type="submit">Continue</button>
      </form>`,
  );
}

export interface ErrorPageInput {
  readonly title: string;
  /** Stable code shown on the page (e.g. `configuration-mismatch`). */
  readonly code: string;
  readonly message: string;
  /** Lines for the administrator: what exactly did not match. */
  readonly details?: readonly string[];
}

export function errorPage(e: ErrorPageInput): string {
  return layout(
    e.title,
    html`<h1>${e.title}</h1>
      <p class="error" role="alert">${e.message}</p>
      ${
        e.details && e.details.length > 0
          ? html`<ul class="details">
              ${e.details.map((d) => html`<li>${d}</li>`)}
            </ul>`
          : ''
      }
      <p class="code">Error code: <code>${e.code}</code></p>`,
  );
}

export const STYLESHEET = `
:root { color-scheme: light; --accent: #0b5cad; --error: #b00020; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; background: #f3f5f8; color: #1c2430; }
.card { width: 100%; max-width: 24rem; margin: 1rem; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.lead { margin: 0 0 1.5rem; color: #4a5565; }
label { display: block; margin: 1rem 0 .35rem; font-weight: 600; }
input[type=email], input[type=password] { box-sizing: border-box; width: 100%; padding: .65rem .75rem; border: 1px solid #b8c0cc; border-radius: 8px; font-size: 1rem; }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-weight: 600; margin-bottom: .5rem; }
.choice { font-weight: 400; display: flex; gap: .5rem; align-items: center; }
button { margin-top: 1.5rem; width: 100%; padding: .75rem; border: 0; border-radius: 8px; background: var(--accent); color: #fff; font-size: 1rem; font-weight: 600; cursor: pointer; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.error { color: var(--error); background: #fdecee; padding: .75rem; border-radius: 8px; }
.details { color: #4a5565; font-size: .9rem; padding-left: 1.2rem; }
.code { color: #4a5565; font-size: .85rem; }
`;
