// Starts GOV.UK Frontend's components. Loaded as a module from this origin, since the Content Security Policy
// allows no inline script; without JavaScript every page works as plain HTML forms.
import { initAll } from '/assets/govuk-frontend.min.js'

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
}
initAll()

// GOV.UK Frontend marks a radio that reveals a question with aria-expanded, which ARIA 1.2 does not allow on a
// radio (axe's aria-allowed-attr, critical; a known issue the Design System keeps, alphagov/govuk-frontend#979).
// The radio keeps its aria-controls and the question is revealed just after it, so nothing is lost by removing
// it, each time the script sets it again.
for (const radio of document.querySelectorAll('input[type=radio][aria-expanded]')) radio.removeAttribute('aria-expanded')
new MutationObserver((changes) => {
  for (const { target } of changes) {
    if (target instanceof HTMLInputElement && target.type === 'radio') target.removeAttribute('aria-expanded')
  }
}).observe(document.body, { attributes: true, attributeFilter: ['aria-expanded'], subtree: true })

// The warning before a signed-in session ends, on pages that have one.
if (document.getElementById('session-timeout')) import('/assets/session-timeout.mjs')
