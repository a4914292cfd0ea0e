// Warns before a signed-in session ends for want of activity (WCAG 2.2.1, Timing Adjustable). Two minutes
// before, a modal dialog (focus moves into it and stays there) offers "Stay signed in", one press; Escape does
// the same. If time runs out regardless, what was typed into the page's form is sent to be kept (never saved
// or sent on), and the person signs in again and comes back to it. Without JavaScript, the server keeps a form
// sent after the session has ended in the same way. The page gives the timings in the dialog's data attributes.
const dialog = document.getElementById('session-timeout')

if (dialog && typeof dialog.showModal === 'function') {
  const idle = Number(dialog.dataset.idleSeconds) * 1000
  const warnBefore = Number(dialog.dataset.warnSeconds) * 1000
  // A little after the server's own clock runs out, so the session really has ended when the page says so.
  const grace = 5000
  let warning
  let ending

  const start = () => {
    clearTimeout(warning)
    clearTimeout(ending)
    warning = setTimeout(() => { if (!dialog.open) dialog.showModal() }, Math.max(idle - warnBefore, 0))
    ending = setTimeout(ended, idle + grace)
  }

  const stay = async () => {
    try {
      const response = await fetch('/session/keep-alive', { credentials: 'same-origin', redirect: 'manual', cache: 'no-store' })
      if (response.status === 204) return start()
    } catch (error) {
      // The service could not be reached: the timers stand, and the page says more if it ends.
    }
    ended()
  }

  // Keeps the page's typed answers and comes back to the page (signing in again first when needed).
  function ended () {
    const kept = document.createElement('form')
    kept.method = 'post'
    kept.action = '/session/resume'
    kept.hidden = true
    const add = (name, value) => {
      const input = document.createElement('input')
      input.type = 'hidden'
      input.name = name
      input.value = value
      kept.append(input)
    }
    const form = document.querySelector('main form[method=post]')
    if (form) {
      for (const [name, value] of new FormData(form)) {
        if (typeof value === 'string' && name !== 'csrf_token') add(name, value)
      }
    }
    add('return_to', window.location.pathname + window.location.search)
    document.body.append(kept)
    kept.submit()
  }

  dialog.querySelector('[data-session-stay]').addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', stay)
  start()
}
