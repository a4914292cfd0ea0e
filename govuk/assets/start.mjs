// Starts GOV.UK Frontend's components. Loaded as a module from this origin, since the Content Security Policy
// allows no inline script; without JavaScript every page works as plain HTML forms.
import { initAll } from '/assets/govuk-frontend.min.js'

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
}
initAll()

// The warning before a signed-in session ends, on pages that have one.
if (document.getElementById('session-timeout')) import('/assets/session-timeout.mjs')
