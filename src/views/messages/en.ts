/**
 * Every user-facing string of the HTML pages. A translation is a new file exporting an
 * object of the same `Messages` type (the compiler then lists any key it misses).
 */
export interface Messages {
  readonly lang: string;
  readonly defaultProductName: string;
  readonly loginTitle: (clientName: string) => string;
  readonly loginHeading: string;
  readonly loginLead: string;
  readonly emailLabel: string;
  readonly passwordLabel: string;
  readonly signInButton: string;
  readonly loginFailed: string;
  /** `seconds` until the next attempt is allowed. */
  readonly lockedOut: (seconds: number) => string;
  readonly pickerTitle: (clientName: string) => string;
  readonly pickerHeading: string;
  readonly pickerLead: string;
  readonly pickerLegend: string;
  readonly continueButton: string;
  readonly consentTitle: (clientName: string) => string;
  readonly consentHeading: string;
  /** Follows the application's name. */
  readonly consentLead: string;
  readonly consentSignedInAs: (who: string) => string;
  /** What each identity scope (OpenID Connect Core §5.4, §11) lets the application do. */
  readonly scopeOpenid: string;
  readonly scopeProfile: string;
  readonly scopeEmail: string;
  readonly scopeOfflineAccess: string;
  /** A scope of the client's own `--scope` list, named as registered. */
  readonly scopeOther: (scope: string) => string;
  readonly allowButton: string;
  readonly denyButton: string;
  readonly supportLink: string;
  readonly errorCodeLabel: string;
  readonly adminDetailsHeading: string;
  readonly endUserAdvice: string;
  readonly mismatchTitle: string;
  readonly mismatchField: (field: string) => string;
  readonly mismatchAdminLead: string;
  readonly mismatchMissingClient: string;
  readonly mismatchUnknownClient: string;
  readonly mismatchUnknownClientDetail: (clientId: string) => string;
  readonly mismatchMissingRedirect: string;
  readonly mismatchUnregisteredRedirect: string;
  readonly mismatchRedirectSent: (uri: string) => string;
  readonly mismatchAuditPointer: (requestId: string) => string;
  readonly duplicateParameter: (field: string) => string;
  readonly expiredTitle: string;
  readonly expiredMessage: string;
  readonly signedOutTitle: string;
  readonly signedOutMessage: string;
  readonly logoutRefusedTitle: string;
  readonly logoutRefusedMessage: string;
  readonly endSessionTitle: string;
  readonly endSessionLead: string;
  readonly endSessionLeadFor: string;
  readonly signOutButton: string;
  readonly endSessionRefusedTitle: string;
  readonly endSessionInvalidMessage: string;
  readonly endSessionUnregisteredMessage: string;
  readonly launchRefusedTitle: string;
  readonly launchRefusedMessage: string;
  readonly unavailableTitle: string;
  readonly unavailableMessage: string;
  /** The login page's link to the forgot-password form (shown when mail is set up). */
  readonly forgotPasswordLink: string;
  readonly forgotTitle: string;
  readonly forgotLead: string;
  readonly sendLinkButton: string;
  /** The forgot form without mail set up: who can help instead. */
  readonly forgotUnavailableMessage: string;
  readonly forgotInvalidEmail: string;
  /** `seconds` until this network may ask again. */
  readonly forgotTooMany: (seconds: number) => string;
  readonly forgotSentTitle: string;
  /** The same answer whether or not an account uses the address. */
  readonly forgotSentMessage: string;
  readonly setupTitle: string;
  readonly resetTitle: string;
  readonly setPasswordLead: (email: string) => string;
  readonly newPasswordLabel: string;
  readonly confirmPasswordLabel: string;
  readonly passwordRule: (min: number) => string;
  readonly setPasswordButton: string;
  readonly passwordTooShort: (min: number) => string;
  readonly passwordTooLong: (max: number) => string;
  readonly passwordsDiffer: string;
  readonly linkInvalidTitle: string;
  readonly linkInvalidMessage: string;
  readonly accountPageExpiredTitle: string;
  readonly accountPageExpiredMessage: string;
  readonly passwordSetTitle: string;
  /** After the password is set in a browser with no pending sign-in to resume. */
  readonly passwordSetMessage: string;
  /** Mail: `product` is the tenant's product name, or Tessera's. */
  readonly mailInviteSubject: (product: string) => string;
  readonly mailInviteIntro: (product: string, email: string) => string;
  readonly mailInviteAction: string;
  readonly mailResetSubject: (product: string) => string;
  readonly mailResetIntro: (product: string, email: string) => string;
  readonly mailResetAction: string;
  /** How long the link works, worded from seconds. */
  readonly mailLinkValidity: (seconds: number) => string;
  readonly mailIgnore: string;
}

export const en: Messages = {
  lang: 'en',
  defaultProductName: 'Tessera',
  loginTitle: (clientName) => `Sign in — ${clientName}`,
  loginHeading: 'Sign in',
  loginLead: 'to continue to',
  emailLabel: 'Email',
  passwordLabel: 'Password',
  signInButton: 'Sign in',
  loginFailed: 'That email and password do not match an active account.',
  lockedOut: (seconds) =>
    `Too many sign-in attempts. Please try again in ${seconds < 120 ? `${seconds} second(s)` : `${Math.ceil(seconds / 60)} minute(s)`}.`,
  pickerTitle: (clientName) => `Choose an organisation — ${clientName}`,
  pickerHeading: 'Choose an organisation',
  pickerLead: 'for',
  pickerLegend: 'Organisation',
  continueButton: 'Continue',
  consentTitle: (clientName) => `Allow access — ${clientName}`,
  consentHeading: 'Allow access?',
  consentLead: 'would like to:',
  consentSignedInAs: (who) => `You are signed in as ${who}.`,
  scopeOpenid: 'Know who you are when you sign in',
  scopeProfile: 'See your name',
  scopeEmail: 'See your email address',
  scopeOfflineAccess: 'Keep access while you are not signed in',
  scopeOther: (scope) => `Use the “${scope}” permission`,
  allowButton: 'Allow',
  denyButton: 'Deny',
  supportLink: 'Need help? Contact support',
  errorCodeLabel: 'Error code:',
  adminDetailsHeading: 'For your administrator',
  endUserAdvice:
    'Please send this page (or a screenshot of it) to the administrator of the application you were signing in to.',
  mismatchTitle: 'This sign-in link is not set up correctly',
  mismatchField: (field) => `Field that did not match: ${field}`,
  mismatchAdminLead:
    'The authorization request did not match the client registered in Tessera. Compare the value below with the client (tessera client show <client_id>).',
  mismatchMissingClient: 'The request names no client (client_id is missing).',
  mismatchUnknownClient: 'This application is not registered here.',
  mismatchUnknownClientDetail: (clientId) => `client_id "${clientId}" is not a registered client.`,
  mismatchMissingRedirect: 'The request names no redirect URI (redirect_uri is missing).',
  mismatchUnregisteredRedirect:
    'This application asked to return to an address that is not registered.',
  mismatchRedirectSent: (uri) => `redirect_uri sent: ${uri}`,
  mismatchAuditPointer: (requestId) =>
    `What is registered, and the full reason, are in Tessera's audit trail: tessera audit list --type authorize.mismatch (request id ${requestId}).`,
  duplicateParameter: (field) => `The request gives ${field} more than once.`,
  expiredTitle: 'This sign-in page has expired',
  expiredMessage: 'Please go back to the application and start the sign-in again.',
  signedOutTitle: 'Signed out',
  signedOutMessage: 'You are signed out.',
  logoutRefusedTitle: 'You were not signed out',
  logoutRefusedMessage:
    'This sign-out request did not come from a sign-in page of this site, so nothing was changed.',
  endSessionTitle: 'Sign out?',
  endSessionLead: 'Do you want to sign out?',
  endSessionLeadFor: 'An application asked to sign you out:',
  signOutButton: 'Sign out',
  endSessionRefusedTitle: 'This sign-out request cannot be completed',
  endSessionInvalidMessage:
    'The application sent a sign-out request that is not valid, so nothing was changed. Please go back to the application.',
  endSessionUnregisteredMessage:
    'This application asked to return to an address that is not registered, so nothing was changed.',
  launchRefusedTitle: 'This app could not be opened',
  launchRefusedMessage:
    'Cisco Spaces could not be verified as the sender of this request. Open the app again from Cisco Spaces.',
  unavailableTitle: 'Temporarily unavailable',
  unavailableMessage: 'The sign-in service is starting. Try again in a moment.',
  forgotPasswordLink: 'Forgot password?',
  forgotTitle: 'Reset your password',
  forgotLead:
    'Enter the email address you sign in with. We will send a link to it for choosing a new password.',
  sendLinkButton: 'Send link',
  forgotUnavailableMessage:
    'Password reset by email is not set up here. Please ask your administrator to reset your password.',
  forgotInvalidEmail: 'Enter the email address you sign in with.',
  forgotTooMany: (seconds) =>
    `Too many requests from your network. Please try again in ${seconds < 120 ? `${seconds} second(s)` : `${Math.ceil(seconds / 60)} minute(s)`}.`,
  forgotSentTitle: 'Check your email',
  forgotSentMessage:
    'If an account uses that address, a link to choose a new password is on its way. It works once, for a limited time.',
  setupTitle: 'Set your password',
  resetTitle: 'Choose a new password',
  setPasswordLead: (email) => `For the account ${email}.`,
  newPasswordLabel: 'New password',
  confirmPasswordLabel: 'Repeat the new password',
  passwordRule: (min) => `At least ${min} characters.`,
  setPasswordButton: 'Set password',
  passwordTooShort: (min) => `The password needs at least ${min} characters.`,
  passwordTooLong: (max) => `The password may have at most ${max} characters.`,
  passwordsDiffer: 'The two passwords are not the same.',
  linkInvalidTitle: 'This link is no longer valid',
  linkInvalidMessage: 'This link is no longer valid.',
  accountPageExpiredTitle: 'This page has expired',
  accountPageExpiredMessage: 'This page has expired. Please open the link from your email again.',
  passwordSetTitle: 'Your password is set',
  passwordSetMessage: 'You are signed in. You can return to the app.',
  mailInviteSubject: (product) => `Your ${product} account`,
  mailInviteIntro: (product, email) =>
    `An account for ${email} has been created on ${product}. Choose a password to start using it:`,
  mailInviteAction: 'Set your password',
  mailResetSubject: (product) => `Reset your ${product} password`,
  mailResetIntro: (product, email) =>
    `Someone asked to reset the ${product} password of ${email}. To choose a new password, open this link:`,
  mailResetAction: 'Choose a new password',
  mailLinkValidity: (seconds) =>
    `The link works once, for ${seconds < 7200 ? `${Math.ceil(seconds / 60)} minute(s)` : seconds < 172800 ? `${Math.round(seconds / 3600)} hour(s)` : `${Math.round(seconds / 86400)} day(s)`}.`,
  mailIgnore: 'If you did not expect this email, you can ignore it: nothing changes.',
};
