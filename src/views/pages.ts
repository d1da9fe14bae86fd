import { type SafeHtml, html } from './html.js';
import { type Messages, messages } from './messages/index.js';

/** What did not match, as data: the page words it from the message catalogue. */
export type MismatchProblem =
  | { readonly kind: 'missing-client' }
  | { readonly kind: 'unknown-client'; readonly clientId: string }
  | {
      readonly kind: 'missing-redirect';
      readonly clientId: string;
      readonly registered: readonly string[];
    }
  | {
      readonly kind: 'unregistered-redirect';
      readonly clientId: string;
      readonly sent: string;
      readonly registered: readonly string[];
      /** Cisco Spaces live/sandbox mix-up: the kind sent and the kinds registered. */
      readonly spaces?:
        { readonly sent: string; readonly registered: readonly string[] } | undefined;
    }
  | { readonly kind: 'repeated'; readonly field: 'client_id' | 'redirect_uri' };

export const STYLESHEET_PATH = '/static/tessera.css';

/** What a page shows of a tenant's or client's branding; the default is neutral. */
export interface PageBrand {
  readonly name: string;
  /** Same-origin URL of the uploaded logo. */
  readonly logoUrl?: string | undefined;
  /** Same-origin URL of the brand stylesheet (the accent colour: inline styles are not allowed). */
  readonly styleUrl?: string | undefined;
  /** https: or mailto: link shown as "contact support". */
  readonly supportUrl?: string | undefined;
}

export function defaultBrand(m: Messages = messages): PageBrand {
  return { name: m.defaultProductName };
}

interface PageOptions {
  readonly brand?: PageBrand | undefined;
  readonly m?: Messages | undefined;
}

function layout(opts: PageOptions, title: string, body: SafeHtml): string {
  const m = opts.m ?? messages;
  const brand = opts.brand ?? defaultBrand(m);
  return html`<!doctype html>
    <html lang="${m.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title}</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
        ${brand.styleUrl ? html`<link rel="stylesheet" href="${brand.styleUrl}" />` : ''}
      </head>
      <body>
        <div class="page">
          <header class="brand">
            ${
              brand.logoUrl
                ? html`<img class="logo" src="${brand.logoUrl}" alt="" height="40" />`
                : ''
            }
            <span class="product">${brand.name}</span>
          </header>
          <main class="card">${body}</main>
          ${
            brand.supportUrl
              ? html`<footer class="support">
                  <a href="${brand.supportUrl}">${m.supportLink}</a>
                </footer>`
              : ''
          }
        </div>
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

/** A form's error line, announced, and the attributes that tie inputs to it. */
function formError(error: string | undefined): { line: SafeHtml; invalid: SafeHtml | '' } {
  return {
    line: html`<div aria-live="assertive">
      ${error ? html`<p class="error" id="form-error" role="alert">${error}</p>` : ''}
    </div>`,
    invalid: error ? html`aria-invalid="true" aria-describedby="form-error"` : '',
  };
}

/** The email field of the login and forgot forms. */
function emailInput(
  m: Messages,
  value: string | undefined,
  invalid: SafeHtml | '',
  autofocus: boolean,
): SafeHtml {
  return html`<label for="email">${m.emailLabel}</label>
    <input
      id="email"
      name="email"
      type="email"
      autocomplete="username"
      inputmode="email"
      autocapitalize="none"
      spellcheck="false"
      required
      value="${value ?? ''}"
      ${invalid}
      ${autofocus ? html`autofocus` : ''}
    />`;
}

export function loginPage(
  f: FormState &
    PageOptions & {
      clientName: string;
      email?: string | undefined;
      /** Already worded from the catalogue (login failed, locked out). */
      error?: string | undefined;
      /** "Forgot password?" links here; absent when no mail is set up (DESIGN §7). */
      forgotUrl?: string | undefined;
    },
): string {
  const m = f.m ?? messages;
  const { line, invalid } = formError(f.error);
  return layout(
    f,
    m.loginTitle(f.clientName),
    html`<h1>${m.loginHeading}</h1>
      <p class="lead">${m.loginLead} <strong>${f.clientName}</strong></p>
      ${line}
      <form method="post" action="/oauth/authorize">
        ${hiddenFields(f)} ${emailInput(m, f.email, invalid, !f.email)}
        <label for="password">${m.passwordLabel}</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          ${invalid}
          ${f.email ? html`autofocus` : ''}
        />
        <button type="submit">${m.signInButton}</button>
      </form>
      ${f.forgotUrl ? html`<p class="aside"><a href="${f.forgotUrl}">${m.forgotPasswordLink}</a></p>` : ''}`,
  );
}

/**
 * The forgot-password form (DESIGN §7), or, without mail set up, who to ask instead. The
 * answer to a post is `noticePage`, the same for every address.
 */
export function forgotPage(
  f: PageOptions & {
    csrf: string;
    /** False: no `smtpUrl`, so the page only says to ask the administrator. */
    available: boolean;
    email?: string | undefined;
    error?: string | undefined;
  },
): string {
  const m = f.m ?? messages;
  const { line, invalid } = formError(f.error);
  if (!f.available)
    return layout(
      f,
      m.forgotTitle,
      html`<h1>${m.forgotTitle}</h1>
        <p>${m.forgotUnavailableMessage}</p>`,
    );
  return layout(
    f,
    m.forgotTitle,
    html`<h1>${m.forgotTitle}</h1>
      <p class="lead">${m.forgotLead}</p>
      ${line}
      <form method="post" action="/account/forgot">
        <input type="hidden" name="csrf" value="${f.csrf}" />
        ${emailInput(m, f.email, invalid, true)}
        <button type="submit">${m.sendLinkButton}</button>
      </form> `,
  );
}

/**
 * The setup and reset pages: a new password twice. The link's token travels in the form, not
 * the action URL, and the page sends no referrer, so it leaves the browser only to us.
 */
export function setPasswordPage(
  f: PageOptions & {
    purpose: 'setup' | 'reset';
    token: string;
    csrf: string;
    email: string;
    minLength: number;
    error?: string | undefined;
  },
): string {
  const m = f.m ?? messages;
  const title = f.purpose === 'setup' ? m.setupTitle : m.resetTitle;
  const { line, invalid } = formError(f.error);
  return layout(
    f,
    title,
    html`<h1>${title}</h1>
      <p class="lead">${m.setPasswordLead(f.email)}</p>
      ${line}
      <form method="post" action="/account/${f.purpose}">
        <input type="hidden" name="csrf" value="${f.csrf}" />
        <input type="hidden" name="token" value="${f.token}" />
        <!-- For password managers: the account the new password belongs to. -->
        <input
          type="email"
          name="username"
          value="${f.email}"
          autocomplete="username"
          readonly
          hidden
        />
        <label for="password">${m.newPasswordLabel}</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="new-password"
          minlength="${f.minLength}"
          required
          autofocus
          aria-describedby="password-rule"
          ${invalid}
        />
        <p class="hint" id="password-rule">${m.passwordRule(f.minLength)}</p>
        <label for="password_confirm">${m.confirmPasswordLabel}</label>
        <input
          id="password_confirm"
          name="password_confirm"
          type="password"
          autocomplete="new-password"
          required
          ${invalid}
        />
        <button type="submit">${m.setPasswordButton}</button>
      </form>`,
  );
}

/** A page that only tells the user something went as asked (the forgot answer, a password set). */
export function noticePage(f: PageOptions & { title: string; message: string }): string {
  return layout(
    f,
    f.title,
    html`<h1>${f.title}</h1>
      <p role="status">${f.message}</p>`,
  );
}

export function tenantPickerPage(
  f: FormState &
    PageOptions & { clientName: string; tenants: readonly { id: string; name: string }[] },
): string {
  const m = f.m ?? messages;
  return layout(
    f,
    m.pickerTitle(f.clientName),
    html`<h1>${m.pickerHeading}</h1>
      <p class="lead">${m.pickerLead} <strong>${f.clientName}</strong></p>
      <form method="post" action="/oauth/authorize">
        ${hiddenFields(f)}
        <fieldset>
          <legend>${m.pickerLegend}</legend>
          ${f.tenants.map(
            (t, i) =>
              html`<label class="choice"
                ><input
                  type="radio"
                  name="tenant"
                  value="${t.id}"
                  ${i === 0 ? html`checked` : ''}
                />
                <span>${t.name}</span></label
              >`,
          )}
        </fieldset>
        <button type="submit">${m.continueButton}</button>
      </form>`,
  );
}

/**
 * RP-Initiated Logout's confirmation: one button posting the request's own parameters back
 * with the CSRF token, so the sign-out happens only from this page.
 */
export function endSessionPage(
  f: PageOptions & {
    csrf: string;
    /** The end-session parameters to send again (hidden fields). */
    fields: Readonly<Record<string, string>>;
    clientName?: string | undefined;
  },
): string {
  const m = f.m ?? messages;
  return layout(
    f,
    m.endSessionTitle,
    html`<h1>${m.endSessionTitle}</h1>
      <p class="lead">
        ${
          f.clientName === undefined
            ? m.endSessionLead
            : html`${m.endSessionLeadFor} <strong>${f.clientName}</strong>`
        }
      </p>
      <form method="post" action="/oauth/end-session">
        <input type="hidden" name="csrf" value="${f.csrf}" />
        ${Object.entries(f.fields).map(
          ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
        )}
        <button type="submit" name="confirm" value="yes">${m.signOutButton}</button>
      </form>`,
  );
}

/** The words for one requested scope: the identity scopes described, the others named. */
function scopeDescription(m: Messages, scope: string): string {
  switch (scope) {
    case 'openid':
      return m.scopeOpenid;
    case 'profile':
      return m.scopeProfile;
    case 'email':
      return m.scopeEmail;
    case 'offline_access':
      return m.scopeOfflineAccess;
    default:
      return m.scopeOther(scope);
  }
}

export function consentPage(
  f: FormState &
    PageOptions & { clientName: string; scopes: readonly string[]; signedInAs: string },
): string {
  const m = f.m ?? messages;
  return layout(
    f,
    m.consentTitle(f.clientName),
    html`<h1>${m.consentHeading}</h1>
      <p class="lead"><strong>${f.clientName}</strong> ${m.consentLead}</p>
      <ul class="scopes">
        ${f.scopes.map((s) => html`<li>${scopeDescription(m, s)}</li>`)}
      </ul>
      <p>${m.consentSignedInAs(f.signedInAs)}</p>
      <form method="post" action="/oauth/authorize">
        ${hiddenFields(f)}
        <button type="submit" name="consent" value="allow">${m.allowButton}</button>
        <button type="submit" name="consent" value="deny" class="secondary">${m.denyButton}</button>
      </form>`,
  );
}

export interface ErrorPageInput extends PageOptions {
  readonly title: string;
  /** Stable code shown on the page (e.g. `configuration-mismatch`). */
  readonly code: string;
  readonly message: string;
  /** What the end user should do (e.g. pass the page to the administrator). */
  readonly advice?: string | undefined;
  /** For the administrator: the field that did not match and what exactly differed. */
  readonly admin?:
    | { readonly lead: string; readonly field: string; readonly details: readonly string[] }
    | undefined;
}

export function errorPage(e: ErrorPageInput): string {
  const m = e.m ?? messages;
  return layout(
    e,
    e.title,
    html`<h1>${e.title}</h1>
      <div aria-live="assertive">
        <p class="error" role="alert">${e.message}</p>
      </div>
      ${e.advice ? html`<p>${e.advice}</p>` : ''}
      ${
        e.admin
          ? html`<section class="admin" aria-labelledby="admin-heading">
              <h2 id="admin-heading">${m.adminDetailsHeading}</h2>
              <p>${e.admin.lead}</p>
              <p class="field">${m.mismatchField(e.admin.field)}</p>
              ${
                e.admin.details.length > 0
                  ? html`<ul class="details">
                      ${e.admin.details.map((d) => html`<li>${d}</li>`)}
                    </ul>`
                  : ''
              }
            </section>`
          : ''
      }
      <p class="code">${m.errorCodeLabel} <code>${e.code}</code></p>`,
  );
}

/**
 * The end-user message and the administrator's lines for a configuration mismatch: only what
 * the request itself sent. Anyone can open the link, so what the client has registered stays
 * in the audit trail (`authorize.mismatch`).
 */
export function mismatchText(
  problem: MismatchProblem,
  m: Messages = messages,
): { message: string; details: string[] } {
  switch (problem.kind) {
    case 'missing-client':
      return { message: m.mismatchMissingClient, details: [] };
    case 'unknown-client':
      return {
        message: m.mismatchUnknownClient,
        details: [m.mismatchUnknownClientDetail(problem.clientId)],
      };
    case 'missing-redirect':
      return { message: m.mismatchMissingRedirect, details: [] };
    case 'unregistered-redirect':
      return {
        message: m.mismatchUnregisteredRedirect,
        details: [m.mismatchRedirectSent(problem.sent)],
      };
    case 'repeated':
      return { message: m.duplicateParameter(problem.field), details: [] };
  }
}

/** `requestId` lets the administrator find the audit event that holds the whole reason. */
export function mismatchPage(
  field: string,
  problem: MismatchProblem,
  requestId: string,
  m: Messages = messages,
): string {
  const { message, details } = mismatchText(problem, m);
  return errorPage({
    m,
    title: m.mismatchTitle,
    code: 'configuration-mismatch',
    message,
    advice: m.endUserAdvice,
    admin: {
      lead: m.mismatchAdminLead,
      field,
      details: [...details, m.mismatchAuditPointer(requestId)],
    },
  });
}

export const STYLESHEET = `
:root { color-scheme: light; --accent: #0b5cad; --on-accent: #ffffff; --error: #b00020; --muted: #4a5565; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.45; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: #f3f5f8; color: #1c2430; }
.page { min-height: 100vh; display: flex; flex-direction: column; align-items: center; justify-content: center; padding: 1rem; }
.brand { display: flex; align-items: center; gap: .6rem; margin-bottom: 1rem; max-width: 100%; }
.logo { height: 40px; width: auto; max-width: 12rem; object-fit: contain; }
.product { font-weight: 600; font-size: 1.05rem; overflow-wrap: anywhere; }
.card { width: 100%; max-width: 26rem; padding: 2rem; background: #fff; border-radius: 12px; border-top: 4px solid var(--accent); box-shadow: 0 2px 12px rgba(0,0,0,.08); overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.lead { margin: 0 0 1.25rem; color: var(--muted); }
label { display: block; margin: 1rem 0 .35rem; font-weight: 600; }
input[type=email], input[type=password] { width: 100%; padding: .7rem .75rem; border: 1px solid #8a94a3; border-radius: 8px; font-size: 1rem; background: #fff; color: inherit; }
input[aria-invalid=true] { border-color: var(--error); }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-weight: 600; margin-bottom: .5rem; }
.choice { font-weight: 400; display: flex; gap: .6rem; align-items: center; margin: .5rem 0; padding: .7rem .75rem; border: 1px solid #c9d0da; border-radius: 8px; cursor: pointer; }
.choice input { width: 1.1rem; height: 1.1rem; margin: 0; }
button { margin-top: 1.5rem; width: 100%; min-height: 2.75rem; padding: .75rem; border: 0; border-radius: 8px; background: var(--accent); color: var(--on-accent); font-size: 1rem; font-weight: 600; cursor: pointer; }
a { color: #0b4f94; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
button.secondary { margin-top: .75rem; background: #fff; color: #1c2430; border: 1px solid #6b7685; }
.scopes { margin: 0 0 1rem; padding-left: 1.25rem; }
.scopes li { margin: .35rem 0; }
.error { color: var(--error); background: #fdecee; padding: .75rem; border-radius: 8px; margin: 0 0 .5rem; }
.admin { border-top: 1px solid #e1e5eb; margin-top: 1rem; }
.field { font-weight: 600; }
.details { color: var(--muted); font-size: .9rem; padding-left: 1.2rem; }
.code { color: var(--muted); font-size: .85rem; }
.support { margin-top: 1rem; font-size: .95rem; }
.aside { margin: 1.25rem 0 0; text-align: center; }
.hint { margin: .35rem 0 0; color: var(--muted); font-size: .9rem; }
@media (max-width: 480px) { .page { justify-content: flex-start; padding: .75rem; } .card { padding: 1.25rem; } }
`;
