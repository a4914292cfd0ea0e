// Drives the portal in real headless Chromium (Debian's, not a download) and checks every entry of the
// manifest: 0 axe-core violations (WCAG 2.2 AA and best practice), no horizontal scroll at 320 px, and a
// screenshot. Then keyboard-only and JavaScript-off journeys. Started by the Rust harness (browser/main.rs),
// which starts the server, makes the data the states need, and passes it all in a JSON file. Exits 1 on any
// failure, having listed every one.
import fs from 'node:fs'
import path from 'node:path'
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
  if (entry.action === 'fill-submit') {
    for (const [selector, value] of Object.entries(entry.fields)) await page.fill(selector, value)
  }
  if (entry.action) {
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')])
  }
  const status = entry.action ? null : response.status()
  if (status !== null && status !== entry.status) fail(`${name}: status ${status}, expected ${entry.status}`)
  const title = await page.title()
  // Every error in a summary says which question it is about, not only what is wrong.
  const summary = await page.$$eval('.govuk-error-summary__list a', links => links.map(a => a.textContent.trim()))
  if (new Set(summary).size !== summary.length) fail(`${name}: the error summary repeats itself: ${summary.join(' | ')}`)
  if (entry.state === 'errors' && !title.startsWith('Error: ')) fail(`${name}: the title does not start "Error: " (${title})`)
  await axe(page, name)
  await page.screenshot({ path: path.join(config.screenshots, `${name}.png`), fullPage: true })
  await reflows(page, name)
  checked += 1
}
console.log(`checked ${checked} manifest entries`)

// Keyboard only: sign in with Tab, typing and Enter, then start a notification with Tab, the arrow keys (within a
// group of radios), Space and Enter.
{
  const context = await newContext()
  const page = await context.newPage()
  const person = config.users.drafter
  await page.goto(`${config.base_url}/`)
  const focusUntil = async (matches, what) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab')
      if (await page.evaluate(matches)) return
    }
    fail(`keyboard: could not reach ${what} with Tab`)
  }
  await focusUntil(() => document.activeElement?.textContent?.trim() === 'Sign in', 'the Sign in button')
  await Promise.all([page.waitForURL(/oauth\/authorize/), page.keyboard.press('Enter')])
  await focusUntil(() => document.activeElement?.id === 'email', 'the email field')
  await page.keyboard.type(person.email)
  await page.keyboard.press('Tab')
  await page.keyboard.type(person.password)
  await Promise.all([page.waitForURL(/\/dashboard$/), page.keyboard.press('Enter')])
  await focusUntil(() => document.activeElement?.textContent?.trim() === 'Start a notification', 'Start a notification')
  await Promise.all([page.waitForURL(/notifications\/new$/), page.keyboard.press('Enter')])
  // Tab enters a group of radios once; within it the arrow keys move, as in every browser.
  await focusUntil(() => document.activeElement?.getAttribute('name') === 'type', 'the choice of notification')
  for (let i = 0; i < 30 && await page.evaluate(() => document.activeElement?.value) !== 'serious_injury'; i++) {
    await page.keyboard.press('ArrowDown')
  }
  await page.keyboard.press('Space')
  await focusUntil(() => document.activeElement?.textContent?.trim() === 'Continue', 'Continue')
  await Promise.all([page.waitForURL(/pages\/1$/), page.keyboard.press('Enter')])
  const heading = await page.textContent('h1')
  if (!heading.includes('The person who was injured')) fail(`keyboard: started on "${heading}"`)
  else console.log('keyboard: signed in and started a serious injury notification')
  await context.close()
}

// JavaScript off: the same service as plain HTML forms.
{
  const context = await newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await signIn(page, 'drafter')
  await page.goto(`${config.base_url}/notifications/new`)
  await page.check('input[value=serious_injury]')
  await Promise.all([page.waitForURL(/pages\/1$/), page.click('main form button[type=submit]')])
  await page.goto(`${config.base_url}${config.paths.draft_check}`)
  if ((await page.textContent('h1')).trim() !== 'Check your answers before sending') fail('no JavaScript: check your answers did not show')
  else console.log('no JavaScript: signed in, started a notification, checked a draft')
  await context.close()
}

await browser.close()
if (failures.length > 0) {
  console.log(`${failures.length} failures`)
  process.exit(1)
}
console.log('browser checks passed')
