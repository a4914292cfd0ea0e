// Drives the portal in real headless Chromium (Debian's, not a download) and checks every entry of the
// manifest: 0 axe-core violations (WCAG 2.2 AA and best practice), no horizontal scroll at 320 px, and a
// screenshot. Then keyboard-only and JavaScript-off journeys. Started by the Rust harness (browser/main.rs),
// which starts the server, makes the data the states need, and passes it all in a JSON file. Exits 1 on any
// failure, having listed every one.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']
const failures = []
const fail = (what) => { failures.push(what); console.log(`FAIL ${what}`) }

// Playwright gives the browser a fresh temporary profile of its own.
const browser = await chromium.launch({
  executablePath: config.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
})

// The page's own Content Security Policy would block the injected axe script; it is asserted elsewhere.
const newContext = (options = {}) => browser.newContext({ bypassCSP: true, viewport: { width: 1024, height: 768 }, ...options })

async function signIn (page, who) {
  const person = config.users[who]
  await page.goto(`${config.base_url}/sign-in`)
  await page.fill('#email', person.email)
  await page.fill('#password', person.password)
  await Promise.all([page.waitForURL(/\/dashboard$/), page.click('button[value=allow]')])
}

async function axe (page, name) {
  await page.addScriptTag({ content: axeSource })
  const results = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS)
  for (const violation of results.violations) {
    const where = violation.nodes.map(n => n.target.join(' ')).slice(0, 3).join('; ')
    fail(`${name}: axe ${violation.id} (${violation.impact}): ${violation.help} at ${where}`)
  }
  return results.violations.length
}

async function reflows (page, name) {
  await page.setViewportSize({ width: 320, height: 640 })
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  if (overflow > 0) fail(`${name}: scrolls sideways by ${overflow}px at 320px wide`)
  await page.screenshot({ path: path.join(config.screenshots, `${name}-320.png`), fullPage: true })
  await page.setViewportSize({ width: 1024, height: 768 })
}

// Every manifest entry, as the person it is for.
const contexts = {}
async function pageFor (who) {
  if (!contexts[who]) {
    const context = await newContext()
    const page = await context.newPage()
    if (who !== 'anonymous') await signIn(page, who)
    contexts[who] = page
  }
  return contexts[who]
}

let checked = 0
for (const entry of config.entries) {
  const route = { '/': 'start', '(not found)': 'not-found' }[entry.route] ?? entry.route.replaceAll('/', '_').replace(/[{}]/g, '').replace(/^_/, '')
  const name = `${route}--${entry.state}`
  const page = await pageFor(entry.as)
  const response = await page.goto(`${config.base_url}${entry.path}`)
  if (entry.action === 'fill-submit' || entry.action === 'stale-submit') {
    // A string is typed; true or false checks or unchecks a radio or checkbox.
    for (const [selector, value] of Object.entries(entry.fields)) {
      if (value === true) await page.check(selector)
      else if (value === false) await page.uncheck(selector)
      else if (typeof value === 'object') await page.setInputFiles(selector, path.join(config.scratch, value.file))
      else await page.fill(selector, value)
    }
  }
  // As if a colleague had saved since the page was loaded: the version the form carries is an old one.
  if (entry.action === 'stale-submit') {
    await page.evaluate(() => { document.querySelector('main form input[name=version]').value = '0' })
  }
  if (entry.action) {
    await Promise.all([page.waitForNavigation(), page.click(entry.button ?? 'main form button[type=submit]')])
  }
  const status = entry.action ? null : response.status()
  if (status !== null && status !== entry.status) fail(`${name}: status ${status}, expected ${entry.status}`)
  const title = await page.title()
  // Every error in a summary says which question it is about, not only what is wrong.
  const summary = await page.$$eval('.govuk-error-summary__list a', links => links.map(a => a.textContent.trim()))
  if (new Set(summary).size !== summary.length) fail(`${name}: the error summary repeats itself: ${summary.join(' | ')}`)
  for (const line of summary) if (/^This is required\.?$/.test(line)) fail(`${name}: an error in the summary names no question: ${line}`)
  if (entry.state === 'errors' && !title.startsWith('Error: ')) fail(`${name}: the title does not start "Error: " (${title})`)
  await axe(page, name)
  await page.screenshot({ path: path.join(config.screenshots, `${name}.png`), fullPage: true })
  await reflows(page, name)
  checked += 1
}
console.log(`checked ${checked} manifest entries`)

// Answers one page of a form: `fields` maps each input's name to its values (as the portal would show the
// published example). With `keyboard`, only Tab, typing, the arrow keys and Space are used, in the page's own
// order (so a conditional question is answered when its reveal opens); otherwise the fields are filled directly.
async function answerPage (page, fields, keyboard) {
  if (!keyboard) {
    // Choices first: they open the conditional questions the other answers go in.
    const typed = []
    for (const [name, values] of Object.entries(fields)) {
      const type = await page.locator(`[name="${name}"]`).first().getAttribute('type')
      if (type === 'radio' || type === 'checkbox') {
        for (const value of values) await page.check(`[name="${name}"][value="${value}"]`)
      } else typed.push([name, values[0]])
    }
    for (const [name, value] of typed) await page.fill(`[name="${name}"]`, value)
  } else {
    const answered = new Set()
    for (let i = 0; i < 300; i++) {
      await page.keyboard.press('Tab')
      const at = await page.evaluate(() => {
        const e = document.activeElement
        return { tag: e?.tagName, type: e?.type, name: e?.name, value: e?.value, checked: e?.checked, id: e?.id, text: e?.textContent?.trim() }
      })
      if (at.tag === 'BUTTON' && at.text === 'Save and continue') break
      const values = fields[at.name]
      if (!values) continue
      if (at.type === 'radio') {
        for (let j = 0; j < 40 && (await page.evaluate(() => document.activeElement.value)) !== values[0]; j++) {
          await page.keyboard.press('ArrowDown')
        }
        await page.keyboard.press('Space')
        answered.add(at.name)
      } else if (at.type === 'checkbox') {
        if (values.includes(at.value) && !at.checked) await page.keyboard.press('Space')
        answered.add(at.name)
      } else if (!answered.has(at.id)) {
        await page.keyboard.press('Control+A')
        await page.keyboard.type(values[0])
        answered.add(at.id)
        answered.add(at.name)
      }
    }
    const missed = Object.keys(fields).filter(name => !answered.has(name))
    if (missed.length) fail(`keyboard: Tab never reached ${missed.join(', ')} on ${page.url()}`)
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim())
    if (focused !== 'Save and continue') fail(`keyboard: Tab never reached Save and continue on ${page.url()}`)
  }
  const before = page.url()
  await Promise.all([page.waitForURL(url => url.toString() !== before), keyboard ? page.keyboard.press('Enter') : page.click('main form button[type=submit]')])
  const problem = await page.$$eval('.govuk-error-summary__list a', links => links.map(a => a.textContent.trim()))
  if (problem.length) fail(`${page.url()}: valid answers refused: ${problem.join(' | ')}`)
}

// Starts a notification of `type` and answers every page of its form; ends on "check your answers".
async function walk (page, type, pages, keyboard) {
  await page.goto(`${config.base_url}/notifications/new`)
  await page.check(`input[value=${type}]`)
  await Promise.all([page.waitForURL(/pages\/1$/), page.click('main form button[type=submit]')])
  for (const fields of pages) await answerPage(page, fields, keyboard)
  const heading = (await page.textContent('h1')).trim()
  if (!/\/check$/.test(page.url()) || !/^Check your answers/.test(heading)) {
    fail(`${type}: did not reach check your answers (${page.url()}: ${heading})`)
    return null
  }
  return page.url()
}

// Keyboard only (Tab, Shift+Tab, typing, the arrow keys, Space and Enter): a drafter signs in, starts a serious
// injury notification, answers every page and saves it; a submitter signs in, reviews it and sends it, and sees
// the reference.
const tab = async (page, matches, what, back = false) => {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    if (await page.evaluate(matches)) return true
  }
  fail(`keyboard: could not reach ${what} with ${back ? 'Shift+Tab' : 'Tab'}`)
  return false
}
async function keyboardSignIn (page, who, lands = /\/dashboard$/) {
  const person = config.users[who]
  await page.goto(`${config.base_url}/`)
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Sign in', 'the Sign in button')
  await Promise.all([page.waitForURL(/oauth\/authorize/), page.keyboard.press('Enter')])
  await tab(page, () => document.activeElement?.id === 'email', 'the email field')
  await page.keyboard.type(person.email)
  await page.keyboard.press('Tab')
  await page.keyboard.type(person.password)
  await Promise.all([lands ? page.waitForURL(lands) : page.waitForNavigation(), page.keyboard.press('Enter')])
}
const injury = config.walks.find(w => w.type === 'serious_injury')
// From Your tasks, by keyboard: Start a notification, choose serious injury, answer every page.
async function keyboardDraftInjury (page) {
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Start a notification', 'Start a notification')
  await Promise.all([page.waitForURL(/notifications\/new$/), page.keyboard.press('Enter')])
  // Tab enters a group of radios once; within it the arrow keys move, as in every browser.
  await tab(page, () => document.activeElement?.getAttribute('name') === 'type', 'the choice of notification')
  for (let i = 0; i < 30 && await page.evaluate(() => document.activeElement?.value) !== 'serious_injury'; i++) {
    await page.keyboard.press('ArrowDown')
  }
  await page.keyboard.press('Space')
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Continue', 'Continue')
  await Promise.all([page.waitForURL(/pages\/1$/), page.keyboard.press('Enter')])
  for (const fields of injury.pages) await answerPage(page, fields, true)
}
let keyboardDraft = null
{
  const context = await newContext()
  const page = await context.newPage()
  await keyboardSignIn(page, 'drafter')
  await keyboardDraftInjury(page)
  if (!/\/check$/.test(page.url())) fail(`keyboard: the drafter did not reach check your answers (${page.url()})`)
  keyboardDraft = page.url()
  // Back up the page with Shift+Tab to the first answer's Change link, as someone checking would.
  await page.keyboard.press('End')
  await tab(page, () => document.activeElement?.textContent?.trim().startsWith('Change'), 'a Change link', true)
  // Then on to ask a colleague to review it: the submitters are emailed a link.
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Ask a colleague to review it', 'Ask a colleague to review it')
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
  const asked = (await page.textContent('.govuk-notification-banner').catch(() => '')).trim()
  if (!asked.includes('Review asked for')) fail(`keyboard: asking for a review showed ${asked}`)
  await context.close()
}
if (keyboardDraft) {
  const context = await newContext()
  const page = await context.newPage()
  await keyboardSignIn(page, 'submitter')
  // The draft's address, typed (the keyboard's way to a page); then review and send with Tab and Enter.
  await page.goto(keyboardDraft)
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Accept and send', 'Accept and send')
  await Promise.all([page.waitForURL(/\/sent$/), page.keyboard.press('Enter')])
  const reference = (await page.textContent('.govuk-panel__body')).trim()
  if (!/N-\d{6}-/.test(reference)) fail(`keyboard: the submitter saw no reference (${reference})`)
  else console.log(`keyboard: a drafter prepared a serious injury notification and asked for a review, a submitter sent it: ${reference}`)
  await context.close()
}

// Keyboard only, the team: an admin goes to Team, invites someone as a drafter; someone else opens the link
// of their own invitation, creates an account and signs in with it.
{
  const context = await newContext()
  const page = await context.newPage()
  await keyboardSignIn(page, 'admin')
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Team', 'Team in the navigation')
  await Promise.all([page.waitForURL(/\/team$/), page.keyboard.press('Enter')])
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Invite someone', 'Invite someone')
  await Promise.all([page.waitForURL(/\/team\/invite$/), page.keyboard.press('Enter')])
  await tab(page, () => document.activeElement?.id === 'email', 'the email field')
  await page.keyboard.type(config.invitations.keyboard_invites)
  await tab(page, () => document.activeElement?.value === 'drafter', 'the Drafter role')
  await page.keyboard.press('Space')
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Send invitation', 'Send invitation')
  await Promise.all([page.waitForURL(/\/team$/), page.keyboard.press('Enter')])
  const banner = (await page.textContent('.govuk-notification-banner')).trim()
  if (!banner.includes(`Invitation sent to ${config.invitations.keyboard_invites}`)) fail(`keyboard: inviting showed ${banner}`)
  await context.close()
}
async function acceptInvitation (page, who, keyboard) {
  const person = config.users[who]
  await page.goto(`${config.base_url}${person.link}`)
  if (keyboard) {
    await tab(page, () => document.activeElement?.getAttribute('name') === 'have_account', 'the account question')
    for (let i = 0; i < 3 && await page.evaluate(() => document.activeElement?.value) !== 'no'; i++) await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Space')
    await tab(page, () => document.activeElement?.id === 'name', 'the name field')
    await page.keyboard.type(person.name)
    await tab(page, () => document.activeElement?.id === 'new-password', 'the new password field')
    await page.keyboard.type(person.password)
    await tab(page, () => document.activeElement?.textContent?.trim() === 'Accept invitation', 'Accept invitation')
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
  } else {
    await page.check('#have-account-2')
    await page.fill('#name', person.name)
    await page.fill('#new-password', person.password)
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')])
  }
  const heading = (await page.textContent('h1')).trim()
  if (heading !== 'You have joined the team') fail(`${keyboard ? 'keyboard' : 'no JavaScript'}: accepting showed ${heading}`)
}
{
  const context = await newContext()
  const page = await context.newPage()
  await acceptInvitation(page, 'keyboard_invitee', true)
  await keyboardSignIn(page, 'keyboard_invitee')
  console.log('keyboard: an admin invited a drafter; an invitee accepted from their link, made an account and signed in')
  await context.close()
}

// Keyboard only, documents: a drafter opens a draft's check your answers, follows "Add documents", reaches the
// file input with Tab (where a person's computer would show its file chooser, the file is chosen for them),
// reaches "Upload file" and presses Enter; the document is uploaded and attached.
{
  const context = await newContext()
  const page = await context.newPage()
  await keyboardSignIn(page, 'drafter')
  await page.goto(`${config.base_url}${config.paths.attach_keyboard}`)
  await tab(page, () => document.activeElement?.textContent?.trim().startsWith('Add'), 'Add documents')
  await Promise.all([page.waitForURL(/\/documents$/), page.keyboard.press('Enter')])
  await tab(page, () => document.activeElement?.id === 'file', 'the file input')
  await page.setInputFiles('#file', path.join(config.scratch, 'evidence.txt'))
  await tab(page, () => document.activeElement?.textContent?.trim() === 'Upload file', 'Upload file')
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
  const banner = (await page.textContent('.govuk-notification-banner').catch(() => '')).trim()
  if (!banner.includes('It is attached to this notification')) fail(`keyboard: uploading and attaching showed ${banner}`)
  else console.log('keyboard: a drafter uploaded a document from a draft and it was attached')
  await context.close()
}

// Keyboard only, a one-person provider: its only submitter prepares a serious injury notification and sends
// it without waiting for a second person.
async function soleSubmitterSends (page, keyboard) {
  if (keyboard) {
    await keyboardDraftInjury(page)
    if (!/\/check$/.test(page.url())) return fail(`keyboard: the sole submitter did not reach check your answers (${page.url()})`)
  } else if (!await walk(page, 'serious_injury', injury.pages, false)) return
  if (keyboard) {
    await tab(page, () => document.activeElement?.textContent?.trim() === 'Accept and send', 'Accept and send (sole submitter)')
    await Promise.all([page.waitForURL(/\/sent$/), page.keyboard.press('Enter')])
  } else {
    await Promise.all([page.waitForURL(/\/sent$/), page.click('text=Accept and send')])
  }
  const reference = (await page.textContent('.govuk-panel__body')).trim()
  if (!/N-\d{6}-/.test(reference)) fail(`${keyboard ? 'keyboard' : 'no JavaScript'}: the sole submitter saw no reference (${reference})`)
  return reference
}
{
  const context = await newContext()
  const page = await context.newPage()
  await keyboardSignIn(page, 'sole')
  const reference = await soleSubmitterSends(page, true)
  if (reference) console.log(`keyboard: a one-person provider's submitter prepared and sent their own: ${reference}`)
  await context.close()
}

// Two people edit the same draft page at once: the first saves; the second's save shows what the first
// changed beside their own answer, and they keep theirs ("Use my answers"), by keyboard alone or with
// JavaScript off. Nothing is overwritten without the second person seeing it.
async function editConflict (keyboard) {
  const label = keyboard ? 'keyboard' : 'no JavaScript'
  const draft = keyboard ? config.paths.conflict_keyboard : config.paths.conflict_nojs
  const firstContext = await newContext({ javaScriptEnabled: keyboard })
  const secondContext = await newContext({ javaScriptEnabled: keyboard })
  const first = await firstContext.newPage()
  const second = await secondContext.newPage()
  await signIn(first, 'drafter')
  if (keyboard) await keyboardSignIn(second, 'submitter')
  else await signIn(second, 'submitter')
  // Both open the first page of the same draft, at the same version.
  await first.goto(`${config.base_url}${draft}/pages/1`)
  await second.goto(`${config.base_url}${draft}/pages/1`)
  await first.fill('#person-identifier', 'RES-FIRST')
  await Promise.all([first.waitForNavigation(), first.click('main form button[type=submit]')])
  if (keyboard) {
    await tab(second, () => document.activeElement?.id === 'person-identifier', 'the identifier field')
    await second.keyboard.press('Control+A')
    await second.keyboard.type('RES-SECOND')
    await tab(second, () => document.activeElement?.textContent?.trim() === 'Save and continue', 'Save and continue')
    await Promise.all([second.waitForNavigation(), second.keyboard.press('Enter')])
  } else {
    await second.fill('#person-identifier', 'RES-SECOND')
    await Promise.all([second.waitForNavigation(), second.click('main form button[type=submit]')])
  }
  const heading = (await second.textContent('h1')).trim()
  const shown = await second.$$eval('.govuk-summary-list__value', values => values.map(v => v.textContent.trim()))
  if (heading !== 'Someone else changed these answers') {
    fail(`${label}: a save over a colleague's showed "${heading}", not the conflict`)
  } else if (!shown.includes('RES-FIRST') || !shown.includes('RES-SECOND')) {
    fail(`${label}: the conflict did not show both answers (${shown.join(' | ')})`)
  } else {
    // axe needs JavaScript in the page; the manifest checks this page with it on.
    if (keyboard) await axe(second, "edit-conflict--keyboard")
    if (keyboard) {
      await tab(second, () => document.activeElement?.textContent?.trim() === 'Use my answers', 'Use my answers')
      await Promise.all([second.waitForNavigation(), second.keyboard.press('Enter')])
    } else {
      await Promise.all([second.waitForNavigation(), second.click('text=Use my answers')])
    }
    await second.goto(`${config.base_url}${draft}/check`)
    const answers = await second.$$eval('.govuk-summary-list__value', values => values.map(v => v.textContent.trim()))
    if (!answers.includes('RES-SECOND')) fail(`${label}: "Use my answers" did not keep them (${answers.join(' | ')})`)
    else console.log(`${label}: two people saved the same page; the second saw both answers side by side and kept theirs`)
  }
  await firstContext.close()
  await secondContext.close()
}
await editConflict(true)
await editConflict(false)

// Every notification type, from start to "check your answers" with valid answers.
{
  const context = await newContext()
  const page = await context.newPage()
  await signIn(page, 'drafter')
  let walked = 0
  for (const { type, pages } of config.walks) {
    try {
      if (await walk(page, type, pages, false)) walked += 1
    } catch (error) {
      fail(`${type}: the walk stopped at ${page.url()}: ${error.message.split('\n')[0]}`)
    }
  }
  console.log(`walked ${walked} of ${config.walks.length} notification types to check your answers`)
  await context.close()
}

// The warning before the session ends (WCAG 2.2.1), on a form page with an answer typed: the page's clock is
// moved on rather than waited for. Two minutes before the end the dialog opens with focus in it; it passes
// axe; Enter on "Stay signed in" extends the session and closes it. Left to run out, the typed answer is
// kept and shown again, not saved.
{
  const context = await newContext()
  const page = await context.newPage()
  await page.clock.install()
  await signIn(page, 'drafter')
  await page.goto(`${config.base_url}${config.paths.form_page}`)
  const idle = Number(await page.getAttribute('#session-timeout', 'data-idle-seconds'))
  const field = page.locator('main input[type=text]').first()
  await field.fill('Typed before the warning')
  await page.clock.fastForward((idle - 119) * 1000)
  const open = await page.evaluate(() => document.getElementById('session-timeout').open)
  const focused = await page.evaluate(() => document.activeElement?.closest('dialog')?.id)
  if (!open) fail('session warning: the dialog did not open two minutes before the end')
  else if (focused !== 'session-timeout') fail(`session warning: focus is not in the dialog (${focused})`)
  await axe(page, 'session-timeout--warning')
  await page.screenshot({ path: path.join(config.screenshots, 'session-timeout--warning.png') })
  await Promise.all([page.waitForResponse(r => r.url().endsWith('/session/keep-alive')), page.keyboard.press('Enter')])
  if (await page.evaluate(() => document.getElementById('session-timeout').open)) fail('session warning: Stay signed in did not close it')
  await page.clock.fastForward((idle + 10) * 1000)
  await page.waitForURL(url => url.toString().endsWith(config.paths.form_page) && url.toString() !== page.url(), { timeout: 5000 }).catch(() => {})
  await page.waitForSelector('.govuk-notification-banner', { timeout: 5000 }).catch(() => {})
  const kept = await field.inputValue().catch(() => '')
  const banner = await page.$$eval('.govuk-notification-banner__heading', b => b.map(e => e.textContent.trim()))
  if (kept !== 'Typed before the warning' || banner[0] !== 'Your answers on this page have not been saved yet') {
    fail(`session warning: when time ran out the answer was not kept (${kept}; ${banner})`)
  } else console.log('session warning: opened with focus, passed axe, Stay signed in extended it; run out, the answer was kept')
  await context.close()
}

// JavaScript off: the same journeys as plain HTML forms: a drafter prepares a notification, a submitter sends
// it, and a question from the regulator is answered.
{
  const drafting = await newContext({ javaScriptEnabled: false })
  const drafter = await drafting.newPage()
  await signIn(drafter, 'drafter')
  const check = await walk(drafter, 'serious_injury', injury.pages, false)
  if (check) {
    await Promise.all([drafter.waitForNavigation(), drafter.click('text=Ask a colleague to review it')])
    const asked = (await drafter.textContent('.govuk-notification-banner').catch(() => '')).trim()
    if (!asked.includes('Review asked for')) fail(`no JavaScript: asking for a review showed ${asked}`)
  }
  await drafting.close()
  const sending = await newContext({ javaScriptEnabled: false })
  const submitter = await sending.newPage()
  await signIn(submitter, 'submitter')
  if (check) {
    await submitter.goto(check)
    await Promise.all([submitter.waitForURL(/\/sent$/), submitter.click('text=Accept and send')])
    const reference = (await submitter.textContent('.govuk-panel__body')).trim()
    if (!/N-\d{6}-/.test(reference)) fail(`no JavaScript: the submitter saw no reference (${reference})`)
  }
  await submitter.goto(`${config.base_url}${config.paths.question}`)
  await submitter.fill('#answer', 'Answered without JavaScript.')
  await Promise.all([submitter.waitForNavigation(), submitter.click('text=Send answer')])
  const banner = await submitter.$$eval('.govuk-notification-banner__heading', b => b.map(e => e.textContent.trim()))
  if (banner[0] !== 'Your answer has been sent') fail(`no JavaScript: answering a question showed ${banner}`)
  if (failures.length === 0) console.log('no JavaScript: drafted, asked for a review, sent (reference shown) and answered a question')
  await sending.close()

  const team = await newContext({ javaScriptEnabled: false })
  const admin = await team.newPage()
  await signIn(admin, 'admin')
  await admin.goto(`${config.base_url}/team/invite`)
  await admin.fill('#email', config.invitations.nojs_invites)
  await admin.check('#roles')
  await Promise.all([admin.waitForURL(/\/team$/), admin.click('main form button[type=submit]')])
  const invited = (await admin.textContent('.govuk-notification-banner')).trim()
  if (!invited.includes(`Invitation sent to ${config.invitations.nojs_invites}`)) fail(`no JavaScript: inviting showed ${invited}`)
  await team.close()
  const joining = await newContext({ javaScriptEnabled: false })
  const invitee = await joining.newPage()
  await acceptInvitation(invitee, 'nojs_invitee', false)
  await signIn(invitee, 'nojs_invitee')
  await joining.close()

  const filing = await newContext({ javaScriptEnabled: false })
  const filer = await filing.newPage()
  await signIn(filer, 'drafter')
  await filer.goto(`${config.base_url}${config.paths.attach_nojs}`)
  await filer.setInputFiles('#file', path.join(config.scratch, 'evidence.txt'))
  await Promise.all([filer.waitForNavigation(), filer.click('text=Upload file')])
  await Promise.all([filer.waitForNavigation(), filer.click('text=Continue to check your answers')])
  const attached = await filer.$$eval('.govuk-summary-list__value', values => values.map(v => v.textContent.trim()))
  if (!attached.includes('1 document')) fail(`no JavaScript: the uploaded document was not attached (${attached.join(' | ')})`)
  await filing.close()

  const alone = await newContext({ javaScriptEnabled: false })
  const sole = await alone.newPage()
  await signIn(sole, 'sole')
  const reference = await soleSubmitterSends(sole, false)
  if (reference) console.log(`no JavaScript: an admin invited, an invitee accepted and signed in, a document was uploaded and attached, a sole submitter sent ${reference}`)
  await alone.close()
}

// Two-factor sign-in: an admin of an organisation that requires it sets up an authenticator at their first
// sign-in (the page's QR code, or its key in text), is shown recovery codes once, and signs in later with a
// recovery code, then, by keyboard alone and without JavaScript, with the app's code. Every page is checked
// with axe and at 320 px, in each state.
function totp (key, offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of key.replace(/\s/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const bytes = Buffer.from(bits.match(/.{8}/g).map(b => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offsetSteps))
  const digest = crypto.createHmac('sha1', bytes).update(counter).digest()
  const offset = digest[digest.length - 1] & 0x0f
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0')
}

async function pageChecks (page, name) {
  await axe(page, name)
  await reflows(page, name)
}

async function passwordStep (page, person) {
  await page.goto(`${config.base_url}/sign-in`)
  await page.fill('#email', person.email)
  await page.fill('#password', person.password)
  await Promise.all([page.waitForNavigation(), page.click('button[value=allow]')])
}

async function twoFactor () {
  const person = config.users.two_factor
  const first = await newContext()
  const page = await first.newPage()
  await passwordStep(page, person)
  if (!(await page.textContent('h1')).includes('Set up two-factor authentication')) {
    fail(`two-factor: the first sign-in did not ask for a second factor (${page.url()})`)
    return
  }
  await pageChecks(page, 'two-factor-enrol--empty')
  const qr = await page.$eval('img[src^="data:image/svg+xml"]', img => ({ alt: img.alt, width: img.naturalWidth }))
  if (!qr.alt.includes('QR code') || qr.width === 0) fail(`two-factor: the QR code does not show, or has no text alternative (${JSON.stringify(qr)})`)
  const key = (await page.textContent('#setup-key')).trim()
  await page.fill('#code', '000000')
  await Promise.all([page.waitForNavigation(), page.click('button[value=allow]')])
  if (!(await page.title()).startsWith('Error: ')) fail('two-factor: a wrong code is not an error page')
  await pageChecks(page, 'two-factor-enrol--errors')
  await page.fill('#code', totp(key))
  await Promise.all([page.waitForNavigation(), page.click('button[value=allow]')])
  const codes = await page.$$eval('#recovery-codes code', items => items.map(i => i.textContent.trim()))
  if (codes.length !== 10) fail(`two-factor: ${codes.length} recovery codes shown, not 10`)
  await pageChecks(page, 'two-factor-recovery-codes--success')
  await Promise.all([page.waitForURL(/\/dashboard$/), page.click('button[value=allow]')])
  await first.close()

  // With a recovery code, in a new browser.
  const second = await newContext()
  const again = await second.newPage()
  await passwordStep(again, person)
  await pageChecks(again, 'two-factor-verify--empty')
  await again.fill('#code', 'wrong-code')
  await Promise.all([again.waitForNavigation(), again.click('button[value=allow]')])
  if (!(await again.title()).startsWith('Error: ')) fail('two-factor: a wrong code at sign-in is not an error page')
  await pageChecks(again, 'two-factor-verify--errors')
  await again.fill('#code', codes[0])
  await Promise.all([again.waitForURL(/\/dashboard$/), again.click('button[value=allow]')])
  await second.close()

  // By keyboard alone, with JavaScript off, with the app's next code (the current one was spent setting up).
  const plain = await newContext({ javaScriptEnabled: false })
  const keys = await plain.newPage()
  await keyboardSignIn(keys, 'two_factor', null)
  if (await tab(keys, () => document.activeElement?.id === 'code', 'the security code field')) {
    await keys.keyboard.type(totp(key, 1))
    await Promise.all([keys.waitForURL(/\/dashboard$/), keys.keyboard.press('Enter')])
    console.log('two-factor: set up, then signed in with a recovery code, and by keyboard without JavaScript with the app\'s code')
  }
  await plain.close()
}
await twoFactor()

await browser.close()
if (failures.length > 0) {
  console.log(`${failures.length} failures`)
  process.exit(1)
}
console.log('browser checks passed')
