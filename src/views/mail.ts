import { textOn } from './brand.js';
import { html } from './html.js';
import { type Messages, messages } from './messages/index.js';

/** What an account mail shows of the tenant's branding (DESIGN §7). */
export interface MailBrand {
  readonly name: string;
  /** Absolute URL of the logo (a mail client has no origin to resolve a path against). */
  readonly logoUrl?: string | undefined;
  /** `#rrggbb`: the button's colour. */
  readonly color?: string | undefined;
}

export interface AccountMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * An invitation or a password-reset mail, in text and HTML, every word from the catalogue.
 * Each part carries the link once and nothing else secret. Mail clients ignore stylesheets
 * and CSP, so the HTML styles inline.
 */
export function accountMail(
  input: {
    purpose: 'setup' | 'reset';
    email: string;
    link: string;
    /** Seconds the link works. */
    ttl: number;
    brand: MailBrand;
  },
  m: Messages = messages,
): AccountMail {
  const { brand } = input;
  const invite = input.purpose === 'setup';
  const subject = invite ? m.mailInviteSubject(brand.name) : m.mailResetSubject(brand.name);
  const intro = invite
    ? m.mailInviteIntro(brand.name, input.email)
    : m.mailResetIntro(brand.name, input.email);
  const action = invite ? m.mailInviteAction : m.mailResetAction;
  const validity = m.mailLinkValidity(input.ttl);
  const text = [intro, '', input.link, '', validity, m.mailIgnore, '', `— ${brand.name}`].join(
    '\n',
  );
  const accent = brand.color ?? '#0b5cad';
  const body = html`<!doctype html>
    <html lang="${m.lang}">
      <head>
        <meta charset="utf-8" />
        <title>${subject}</title>
      </head>
      <body
        style="margin:0;padding:24px;background:#f3f5f8;font-family:system-ui,sans-serif;color:#1c2430"
      >
        <div
          style="max-width:32rem;margin:0 auto;padding:24px;background:#ffffff;border-radius:12px;border-top:4px solid ${accent}"
        >
          ${
            brand.logoUrl
              ? html`<img src="${brand.logoUrl}" alt="${brand.name}" height="40" />`
              : html`<p style="font-weight:600;margin:0 0 16px">${brand.name}</p>`
          }
          <p>${intro}</p>
          <p>
            <a
              href="${input.link}"
              style="display:inline-block;padding:12px 20px;border-radius:8px;background:${accent};color:${textOn(accent)};font-weight:600;text-decoration:none"
              >${action}</a
            >
          </p>
          <p style="color:#4a5565">${validity} ${m.mailIgnore}</p>
        </div>
      </body>
    </html>`;
  return { subject, text, html: body.value };
}
