// Accessibility (issue 6): the chat screen passes axe-core's audit with no serious or
// critical violation in the light and the dark theme; everything works from the keyboard
// (visible focus on the way to the composer, sending, the `?` help dialog that Escape
// closes and that gives focus back); screen readers hear new incoming messages and send
// failures.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seriousViolations as audit } from './audit.mjs';
import { Server, launchBrowser, openAgent, openCustomer, uniqueText, confirmedRow } from './harness.mjs';

function describeViolations(list) {
  return list.map((v) => `${v.impact} ${v.id} (${v.help})\n  ${v.nodes.join('\n  ')}`).join('\n');
}

describe('accessibility', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    agent = await openAgent(browser, server);
    await agent.locator('[data-testid=message]').first().waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('axe finds no serious or critical violation in the light theme', async () => {
    await agent.emulateMedia({ colorScheme: 'light' });
    // A formatted draft shows the rich text preview too.
    await agent.locator('[data-testid=composer-input]').fill('**bold** and a [link](https://example.com)');
    await agent.locator('[data-testid=composer-preview]').waitFor();
    const found = await audit(agent);
    assert.deepEqual(found, [], describeViolations(found));
    await agent.locator('[data-testid=composer-input]').fill('');
  });

  test('axe finds no serious or critical violation in the dark theme', async () => {
    await agent.emulateMedia({ colorScheme: 'dark' });
    const bg = await agent.evaluate(() => getComputedStyle(document.querySelector('.parley')).backgroundColor);
    assert.notEqual(bg, 'rgb(246, 247, 251)', 'the dark theme is applied');
    const found = await audit(agent);
    assert.deepEqual(found, [], describeViolations(found));
    await agent.emulateMedia({ colorScheme: 'light' });
  });

  test('axe finds no serious or critical violation right to left (Arabic), light and dark', async () => {
    const page = await openAgent(browser, server, server.info.agentUrl, { locale: 'ar' });
    await page.locator('[data-testid=message]').first().waitFor();
    assert.equal(await page.evaluate(() => document.querySelector('.parley').getAttribute('dir')), 'rtl');
    await page.locator('[data-testid=composer-input]').fill('**عريض** و [رابط](https://example.com)');
    await page.locator('[data-testid=composer-preview]').waitFor();
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      const found = await audit(page);
      assert.deepEqual(found, [], `${colorScheme}: ${describeViolations(found)}`);
    }
    await page.locator('[data-testid=composer-input]').fill('');
    await page.close();
  });

  test('axe finds nothing serious in the keyboard help dialog either', async () => {
    await agent.locator('[data-testid=shortcuts-button]').click();
    await agent.locator('[data-testid=shortcuts-help][open]').waitFor();
    const found = await audit(agent);
    assert.deepEqual(found, [], describeViolations(found));
    await agent.keyboard.press('Escape');
    await agent.locator('[data-testid=shortcuts-help][open]').waitFor({ state: 'detached' });
  });

  test('from the keyboard alone: Tab reaches the composer with visible focus, Enter sends', async () => {
    const page = await openAgent(browser, server);
    const customer = await openCustomer(browser, server);
    // Start from the top of the page, nothing focused.
    await page.evaluate(() => document.activeElement?.blur());
    const stops = [];
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      // The look of the element (and of the composer's box, which shows the composer's
      // focus) while focused and after it loses focus: a focus ring the element also has
      // when not focused shows nothing. Transitions run to their end before each look.
      const stop = await page.evaluate(async () => {
        const el = document.activeElement;
        const box = el.closest('.parley-composer-box');
        // What draws a focus indicator (an outline that only moves, by its offset, is not one).
        const PROPS = ['outlineStyle', 'outlineWidth', 'outlineColor', 'boxShadow', 'borderTopColor', 'borderBottomColor', 'borderLeftColor', 'borderRightColor', 'backgroundColor', 'textDecorationLine'];
        const settled = () => Promise.all(document.getAnimations()
          .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
          .map((a) => a.finished.catch(() => null)));
        const look = async () => {
          await settled();
          const pick = (node) => {
            const s = getComputedStyle(node);
            return Object.fromEntries(PROPS.map((p) => [p, s[p]]));
          };
          return { el: pick(el), box: box ? pick(box) : null };
        };
        const focused = await look();
        el.blur();
        const blurred = await look();
        // Back where Tab left it, so the next Tab goes on from here.
        el.focus();
        const changed = [];
        for (const part of ['el', 'box']) {
          for (const p of PROPS) {
            if (focused[part] && focused[part][p] !== blurred[part][p]) changed.push(`${part}.${p}: ${blurred[part][p]} -> ${focused[part][p]}`);
          }
        }
        return { testid: el.dataset.testid ?? el.tagName, visible: changed.length > 0, changed };
      });
      stops.push(stop);
      if (stop.testid === 'composer-input') break;
    }
    assert.equal(stops.at(-1)?.testid, 'composer-input', `Tab reaches the composer (went through ${stops.map((s) => s.testid).join(', ')})`);
    const invisible = stops.filter((s) => !s.visible);
    assert.deepEqual(invisible, [], 'every focus stop looks different focused than not (outline, shadow, border or background)');

    const text = uniqueText('keyboard only');
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
    await confirmedRow(page, text).waitFor();
    await customer.getByText(text).waitFor();
    await page.close();
    await customer.close();
  });

  test('? opens the keyboard help outside a field; Escape closes it and focus comes back', async () => {
    // The agent's tab is the one in front (the previous test opened and closed others).
    await agent.bringToFront();
    const input = agent.locator('[data-testid=composer-input]');
    // In the composer, ? is just a character.
    await input.fill('');
    await input.focus();
    await agent.keyboard.type('why?');
    assert.equal(await input.inputValue(), 'why?');
    assert.equal(await agent.locator('[data-testid=shortcuts-help][open]').count(), 0);
    await input.fill('');

    const button = agent.locator('[data-testid=shortcuts-button]');
    await button.focus();
    await agent.keyboard.press('?');
    const dialog = agent.locator('[data-testid=shortcuts-help][open]');
    await dialog.waitFor();
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), 'focus moved into the dialog');
    const text = await dialog.textContent();
    for (const expected of ['Send the message', 'Enter', 'Shift+Enter', 'Escape', 'Bold', 'Ctrl+B', 'Link', 'Ctrl+K']) {
      assert.ok(text.includes(expected), `the help lists ${expected}`);
    }
    await agent.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'shortcuts-button', 'focus is back on what opened it');

    // From the page itself (nothing focused), ? opens it too; the Close button closes it.
    await agent.evaluate(() => document.activeElement?.blur());
    await agent.keyboard.press('?');
    await dialog.waitFor();
    await agent.locator('[data-testid=shortcuts-close]').click();
    await dialog.waitFor({ state: 'detached' });

    // Escape, then ? before the browser's `close` event (a task later): open again, and
    // that late event does not close it.
    await agent.keyboard.press('?');
    await dialog.waitFor();
    await agent.evaluate(() => {
      const help = document.querySelector('[data-testid=shortcuts-help]');
      help.dispatchEvent(new Event('cancel', { cancelable: true })); // what Escape does first
      help.close(); // then the browser closes it and queues `close`
      document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true }));
    });
    await agent.waitForTimeout(300);
    assert.equal(await dialog.count(), 1, 'open again after a quick Escape then ?');
    await agent.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('screen readers hear a new incoming message and a send failure', async () => {
    const incoming = uniqueText('announced');
    await server.customerSend(incoming);
    const announcer = agent.locator('[data-testid=announcer]');
    await agent.waitForFunction((t) => document.querySelector('[data-testid=announcer]').textContent.includes(t), incoming);
    assert.equal(await announcer.getAttribute('aria-live'), 'polite');

    // A message the server refuses: the failure is said in an alert, not only by a row.
    await agent.route('**/conversations/*/messages', (route) => (route.request().method() === 'POST'
      ? route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: 'Conversation is closed' }) })
      : route.continue()));
    const refused = uniqueText('refused');
    await agent.locator('[data-testid=composer-input]').fill(refused);
    await agent.keyboard.press('Enter');
    const alert = agent.locator('[role=alert][data-testid=toast]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /not sent/i);
    await agent.unroute('**/conversations/*/messages');
  });
});
