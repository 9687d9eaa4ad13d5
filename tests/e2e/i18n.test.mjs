// Languages (issue 6): the locale from mount()'s config or from the browser's languages,
// every string from its catalog, dates through Intl, and Arabic laid out right to left
// (outgoing bubbles on the left, incoming on the right, the send button on the left),
// while a Latin message in an Arabic UI still reads left to right. An unknown locale is
// English.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_TOKEN, DIST, Server, launchBrowser, uniqueText } from './harness.mjs';

async function builtAssets() {
  const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
  const js = html.match(/\/parley-[0-9a-f]+\.js/)?.[0];
  const css = html.match(/\/parley-[0-9a-f]+\.css/)?.[0];
  const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)?.[0];
  assert.ok(js && css && wasm, 'dist/index.html names the module, its wasm and the stylesheet');
  return { js, css, wasm };
}

/** A page in a browser context whose languages are `locale` (navigator.languages). */
async function pageIn(browser, locale) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  return page;
}

/** A host page of the test's own (English, left to right) that mounts conversation 1. */
async function mountOnHost(server, page, config) {
  const { js, css, wasm } = await builtAssets();
  await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
  await page.setContent(`<!doctype html><html lang="en" dir="ltr"><head><link rel="stylesheet" href="${css}"></head><body>
      <h1 id="host-title">Host dashboard</h1>
      <div id="chat" style="height: 700px"></div>
      <script type="module">
        import init, { mount } from '${js}';
        await init({ module_or_path: '${wasm}' });
        window.chat = mount(document.getElementById('chat'), Object.assign(
          { baseUrl: '', accountId: 1, conversationId: 1, token: '${AGENT_TOKEN}' }, ${JSON.stringify(config)}));
        window.mounted = true;
      </script></body></html>`);
  await page.waitForFunction(() => window.mounted === true);
  await page.locator('#chat [data-testid=connection-state][data-state=connected]').waitFor();
  await page.locator('#chat [data-testid=message]').first().waitFor();
}

const box = (locator) => locator.boundingBox().then((b) => { assert.ok(b, 'the element is laid out'); return b; });

describe('languages', { timeout: 180_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  describe('Arabic from mount()\'s config, in an English browser', () => {
    let page;
    before(async () => {
      page = await pageIn(browser, 'en-US');
      await mountOnHost(server, page, { locale: 'ar' });
    });

    test('Parley\'s root says ar and rtl; the host page keeps its own', async () => {
      const root = page.locator('#chat .parley');
      assert.equal(await root.getAttribute('lang'), 'ar');
      assert.equal(await root.getAttribute('dir'), 'rtl');
      assert.equal(await page.locator('#chat [data-testid=chat-screen]').evaluate((el) => getComputedStyle(el).direction), 'rtl');
      assert.equal(await page.evaluate(() => document.getElementById('chat').getAttribute('dir')), null, 'the host element itself is not changed');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
      assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
      assert.equal(await page.locator('#host-title').textContent(), 'Host dashboard');
    });

    test('the strings are Arabic: send, composer, modes, the log\'s label', async () => {
      assert.equal((await page.locator('#chat [data-testid=send-button]').textContent()).trim(), 'إرسال');
      assert.equal((await page.locator('#chat [data-testid=mode-reply]').textContent()).trim(), 'رد');
      assert.equal((await page.locator('#chat [data-testid=mode-private]').textContent()).trim(), 'ملاحظة خاصة');
      const input = page.locator('#chat [data-testid=composer-input]');
      assert.match(await input.getAttribute('placeholder'), /^اكتب ردك…/);
      assert.equal(await input.getAttribute('aria-label'), 'رسالة');
      assert.equal(await page.locator('#chat [data-testid=message-list]').getAttribute('aria-label'), 'الرسائل');
      // A count in its Arabic plural form: the demo conversation opens with one unread message.
      assert.equal((await page.locator('#chat [data-testid=unread-divider]').textContent()).trim(), 'رسالة واحدة غير مقروءة');
      // No English left in the chrome around the messages.
      const chrome = await page.locator('#chat .parley-composer').innerText();
      assert.doesNotMatch(chrome, /Reply|Private note|Send/);
    });

    test('day separators: "yesterday" from the catalog, older days through Intl in Arabic', async () => {
      const list = page.locator('#chat [data-testid=message-list]');
      const separators = () => page.locator('#chat [data-testid=day-separator] time').evaluateAll((els) =>
        els.map((el) => ({ text: el.textContent.trim(), at: el.getAttribute('datetime') })));
      const daysBack = (d) => (Date.now() - Date.parse(d.at)) / 86_400_000;
      // The log is virtualized and opens at the bottom: the oldest day is at the top.
      await list.evaluate((el) => { el.scrollTop = 0; });
      await page.waitForFunction(() => [...document.getElementById('chat').shadowRoot.querySelectorAll('[data-testid=day-separator] time')]
        .some((t) => Date.now() - Date.parse(t.getAttribute('datetime')) > 2 * 86_400_000));
      const older = (await separators()).find((d) => daysBack(d) > 2);
      const expected = await page.evaluate((iso) => new Intl.DateTimeFormat('ar', { weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso)), older.at);
      assert.equal(older.text, expected);
      assert.match(older.text, /[\u0600-\u06FF]/, 'an Arabic weekday and month');

      await list.evaluate((el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForFunction(() => [...document.getElementById('chat').shadowRoot.querySelectorAll('[data-testid=day-separator] time')]
        .some((t) => t.textContent.trim() === 'أمس'));
      const yesterday = (await separators()).find((d) => d.text === 'أمس');
      assert.ok(daysBack(yesterday) > 0.5 && daysBack(yesterday) < 2.5, `yesterday is yesterday: ${yesterday.at}`);
    });

    test('mirrored: outgoing bubbles on the left, incoming on the right, the send button on the left', async () => {
      const list = await box(page.locator('#chat [data-testid=message-list]'));
      const outgoing = await box(page.locator('#chat .parley-message-outgoing:not(.parley-message-private) .parley-bubble').first());
      const incoming = await box(page.locator('#chat .parley-message-incoming .parley-bubble').first());
      const mid = list.x + list.width / 2;
      assert.ok(outgoing.x < mid && outgoing.x + outgoing.width / 2 < mid, `outgoing on the left half: ${JSON.stringify({ outgoing, list })}`);
      assert.ok(incoming.x + incoming.width > mid && incoming.x + incoming.width / 2 > mid, `incoming on the right half: ${JSON.stringify({ incoming, list })}`);
      assert.ok(incoming.x + incoming.width > outgoing.x + outgoing.width, 'incoming ends further right than outgoing');

      const send = await box(page.locator('#chat [data-testid=send-button]'));
      const input = await box(page.locator('#chat [data-testid=composer-input]'));
      assert.ok(send.x + send.width <= input.x + 1, `send button left of the text: ${JSON.stringify({ send, input })}`);
      // The send arrow points the way Arabic reads.
      const transform = await page.locator('#chat [data-testid=send-button] svg').evaluate((el) => getComputedStyle(el).transform);
      assert.equal(transform, 'matrix(-1, 0, 0, 1, 0, 0)');
    });

    test('a Latin message in the Arabic UI reads left to right; an Arabic one right to left; the row says sent in Arabic', async () => {
      const input = page.locator('#chat [data-testid=composer-input]');
      const latin = uniqueText('Latin text in an Arabic UI');
      await input.fill(latin);
      await input.press('Enter');
      const row = page.locator('#chat [data-testid=message][data-status=sent], #chat [data-testid=message][data-status=delivered]', { hasText: latin });
      await row.waitFor();
      const content = row.locator('[data-testid=message-content]');
      assert.equal(await content.evaluate((el) => getComputedStyle(el).direction), 'ltr');
      assert.equal(await row.locator('.parley-status').getAttribute('title').then((t) => ['أُرسلت', 'وصلت'].includes(t)), true);

      const arabic = `مرحبا، كيف يمكنني مساعدتك؟ ${Date.now()}`;
      await input.fill(arabic);
      await input.press('Enter');
      const arabicRow = page.locator('#chat [data-testid=message]', { hasText: arabic });
      await arabicRow.waitFor();
      assert.equal(await arabicRow.locator('[data-testid=message-content]').evaluate((el) => getComputedStyle(el).direction), 'rtl');
      assert.deepEqual(page.errors, []);
    });
  });

  test('French from the browser\'s languages (standalone app, no locale in its config)', async () => {
    const page = await pageIn(browser, 'fr-FR');
    try {
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      const root = page.locator('.parley').first();
      assert.equal(await root.getAttribute('lang'), 'fr-FR');
      assert.equal(await root.getAttribute('dir'), 'ltr');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr-FR');
      assert.equal((await page.locator('[data-testid=send-button]').textContent()).trim(), 'Envoyer');
      assert.equal((await page.locator('[data-testid=mode-private]').textContent()).trim(), 'Note privée');
      const days = await page.locator('[data-testid=day-separator] time').allTextContents();
      assert.ok(days.map((d) => d.trim()).includes('Hier'), `yesterday is "Hier": ${days}`);
      // The keyboard help, with the keys as a French keyboard names them.
      await page.locator('[data-testid=shortcuts-button]').click();
      const help = page.locator('[data-testid=shortcuts-help]');
      await help.waitFor();
      assert.equal((await help.locator('h2').textContent()).trim(), 'Raccourcis clavier');
      const sendRow = help.locator('tr', { hasText: 'Envoyer le message' });
      assert.equal((await sendRow.locator('kbd').textContent()).trim(), 'Entrée');
      assert.ok((await help.innerText()).includes('Maj+Entrée'));
      assert.ok((await help.innerText()).includes('Gras'), 'the formatting shortcuts are named in French');
      await help.locator('[data-testid=shortcuts-close]').click();
      // Left to right: outgoing on the right, send button after the text.
      const send = await box(page.locator('[data-testid=send-button]'));
      const input = await box(page.locator('[data-testid=composer-input]'));
      assert.ok(send.x >= input.x + input.width - 1);
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });

  test('an unknown locale in the config falls back to English (even in a French browser)', async () => {
    const page = await pageIn(browser, 'fr-FR');
    try {
      await mountOnHost(server, page, { locale: 'tlh' });
      const root = page.locator('#chat .parley');
      assert.equal(await root.getAttribute('lang'), 'en');
      assert.equal(await root.getAttribute('dir'), 'ltr');
      assert.equal((await page.locator('#chat [data-testid=send-button]').textContent()).trim(), 'Send');
      const days = await page.locator('#chat [data-testid=day-separator] time').allTextContents();
      assert.ok(days.map((d) => d.trim()).includes('Yesterday'), `${days}`);
    } finally {
      await page.context().close();
    }
  });

  test('two chats on one host page, one Arabic and one French, each in its own language and direction', async () => {
    const page = await pageIn(browser, 'en-US');
    try {
      const { js, css, wasm } = await builtAssets();
      await page.goto(`${server.baseUrl}/api/v1/host-page-of-the-test`);
      await page.setContent(`<!doctype html><html lang="en"><head><link rel="stylesheet" href="${css}"></head><body>
          <div id="chat-ar" style="height: 500px"></div><div id="chat-fr" style="height: 500px"></div>
          <script type="module">
            import init, { mount } from '${js}';
            await init({ module_or_path: '${wasm}' });
            const base = { baseUrl: '', accountId: 1, token: '${AGENT_TOKEN}' };
            window.chats = [
              mount(document.getElementById('chat-ar'), { ...base, conversationId: 1, locale: 'ar' }),
              mount(document.getElementById('chat-fr'), { ...base, conversationId: 2, locale: 'fr' }),
            ];
            window.mounted = true;
          </script></body></html>`);
      await page.waitForFunction(() => window.mounted === true);
      for (const id of ['chat-ar', 'chat-fr']) await page.locator(`#${id} [data-testid=connection-state][data-state=connected]`).waitFor();
      assert.equal(await page.locator('#chat-ar .parley').getAttribute('dir'), 'rtl');
      assert.equal(await page.locator('#chat-fr .parley').getAttribute('dir'), 'ltr');
      assert.equal((await page.locator('#chat-ar [data-testid=send-button]').textContent()).trim(), 'إرسال');
      assert.equal((await page.locator('#chat-fr [data-testid=send-button]').textContent()).trim(), 'Envoyer');
      assert.equal(await page.locator('#chat-fr [data-testid=composer-input]').getAttribute('aria-label'), 'Message');
      assert.equal(await page.locator('#chat-ar [data-testid=composer-input]').getAttribute('aria-label'), 'رسالة');
    } finally {
      await page.context().close();
    }
  });

  test('<parley-chat locale="ar"> says it is loading in Arabic, right to left, then shows the Arabic chat', async () => {
    const page = await pageIn(browser, 'en-US');
    try {
      let releaseWasm;
      const wasmHeld = new Promise((resolve) => { releaseWasm = resolve; });
      await page.route('**/parley/parley_bg.wasm', async (route) => {
        await wasmHeld;
        await route.continue();
      });
      // A real document of the host's (custom elements are upgraded as the page parses).
      await page.route(`${server.baseUrl}/host.html`, (route) => route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><body>
          <parley-chat id="chat" account="1" conversation="1" token="${AGENT_TOKEN}" locale="ar" style="display:block;height:600px"></parley-chat>
          <script type="module" src="/parley/parley-element.js"></script></body></html>`,
      }));
      await page.goto(`${server.baseUrl}/host.html`);
      const loading = page.locator('#chat [role=status]');
      await loading.waitFor();
      assert.equal((await loading.textContent()).trim(), 'جارٍ تحميل المحادثة…');
      assert.equal(await loading.getAttribute('dir'), 'rtl');
      assert.equal(await loading.getAttribute('lang'), 'ar');
      releaseWasm();
      await page.locator('#chat [data-testid=message]').first().waitFor();
      assert.equal(await page.locator('#chat .parley').getAttribute('dir'), 'rtl');
      assert.equal((await page.locator('#chat [data-testid=send-button]').textContent()).trim(), 'إرسال');
    } finally {
      await page.context().close();
    }
  });

  test('a browser language without a catalog gets English', async () => {
    const page = await pageIn(browser, 'de-DE');
    try {
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      assert.equal(await page.locator('.parley').first().getAttribute('lang'), 'en');
      assert.equal((await page.locator('[data-testid=send-button]').textContent()).trim(), 'Send');
    } finally {
      await page.context().close();
    }
  });
});

/** Arabic-Indic digits as Latin ones, so a place ("٣ من ٤") reads the same in any numbering. */
const latinDigits = (s) => s.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660));
/** Without the invisible marks that isolate values inside a right-to-left sentence. */
const unisolated = (s) => s.replace(/[\u2066-\u2069]/g, '');

describe('the voice recorder and the lightbox in other languages', { timeout: 180_000 }, () => {
  let server;

  before(async () => {
    server = await Server.start({ demo: true });
    // Three images from the customer, so the lightbox has somewhere to move to.
    const { inbox, contact, conversation } = server.customerIds();
    const body = new FormData();
    const { PNG } = await import('pngjs');
    for (const [name, rgb] of [['red.png', [200, 40, 40]], ['green.png', [40, 160, 60]], ['blue.png', [40, 60, 200]]]) {
      const image = new PNG({ width: 40, height: 30 });
      for (let i = 0; i < 40 * 30; i++) image.data.set([...rgb, 255], i * 4);
      body.append('attachments[]', new Blob([PNG.sync.write(image)], { type: 'image/png' }), name);
    }
    const res = await fetch(`${server.baseUrl}/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversation}/messages`, { method: 'POST', body });
    assert.equal(res.status, 200, await res.text());
  });

  after(async () => {
    await server?.dispose();
  });

  test('a refused microphone is explained in French, with how to allow it', async () => {
    // A fake device but no automatic grant: headless Chromium refuses the prompt.
    const browser = await launchBrowser(['--use-fake-device-for-media-stream']);
    try {
      const page = await pageIn(browser, 'fr-FR');
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      const mic = page.locator('[data-testid=voice-record]');
      assert.equal(await mic.getAttribute('aria-label'), 'Enregistrer un message vocal');
      await mic.click();
      const problem = page.locator('[data-testid=voice-error]');
      await problem.waitFor();
      assert.equal((await problem.locator('.parley-voice-problem-what').textContent()).trim(),
        'Parley ne peut pas utiliser votre micro : l’accès a été refusé.');
      assert.match(await problem.locator('.parley-voice-problem-fix').textContent(), /barre d’adresse.*Micro sur Autoriser/);
      assert.equal((await page.locator('[data-testid=voice-retry]').textContent()).trim(), 'Réessayer');
      assert.deepEqual(page.errors, []);
    } finally {
      await browser.close();
    }
  });

  test('a file over the size limit is refused in French, its sizes in French units', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-i18n-'));
    const tooBig = path.join(dir, 'trop-gros.pdf');
    await writeFile(tooBig, '');
    await truncate(tooBig, 41 * 1024 * 1024);
    const browser = await launchBrowser();
    try {
      const page = await pageIn(browser, 'fr-FR');
      await page.goto(server.info.agentUrl);
      await page.locator('[data-testid=connection-state][data-state=connected]').waitFor();
      await page.locator('[data-testid=attach-input]').setInputFiles([tooBig]);
      const refused = page.locator('[data-testid=attachment-refused] li');
      await refused.first().waitFor();
      const note = (await refused.first().textContent()).trim().replace(/[\u00a0\u202f]/g, ' ');
      assert.equal(note, '« trop-gros.pdf » fait 41,0 Mo, au-delà de la limite de 40 Mo par fichier.');
      assert.deepEqual(page.errors, []);
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the lightbox in Arabic: its labels, and ArrowLeft goes to the next image, the arrows pointing the other way', async () => {
    const browser = await launchBrowser();
    try {
      const page = await pageIn(browser, 'ar');
      await page.goto(server.info.agentUrl);
      assert.equal(await page.locator('.parley').first().getAttribute('dir'), 'rtl');
      const thumbs = page.locator('[data-testid=attachment-image]');
      await thumbs.nth(2).waitFor();
      const count = await thumbs.count();
      // The next-to-last image: there is one before it and one after it.
      await thumbs.nth(count - 2).click();
      const dialog = page.locator('[data-testid=lightbox][open]');
      await dialog.waitFor();
      const place = async () => latinDigits((await page.locator('[data-testid=lightbox-place]').textContent()).trim());
      assert.equal(await place(), `${count - 1} من ${count}`);
      assert.equal(unisolated(await dialog.getAttribute('aria-label')), 'صورة: green.png');
      assert.equal(await page.locator('[data-testid=lightbox-next]').getAttribute('aria-label'), 'الصورة التالية');
      assert.equal(await page.locator('[data-testid=lightbox-prev]').getAttribute('aria-label'), 'الصورة السابقة');
      assert.equal((await page.locator('[data-testid=lightbox-original]').textContent()).trim(), 'فتح الأصل');
      assert.equal(await page.locator('[data-testid=lightbox-close]').getAttribute('aria-label'), 'إغلاق');

      // Mirrored: "previous" is on the right, its chevron points right; "next" on the left.
      const prev = await box(page.locator('[data-testid=lightbox-prev]'));
      const next = await box(page.locator('[data-testid=lightbox-next]'));
      assert.ok(prev.x > next.x, `previous (x ${prev.x}) is right of next (x ${next.x})`);
      const flipped = await page.locator('[data-testid=lightbox-prev] svg').evaluate((el) => getComputedStyle(el).transform);
      assert.equal(flipped, 'matrix(-1, 0, 0, 1, 0, 0)', 'the previous chevron is turned');

      // ArrowLeft moves on, towards the left where "next" is; ArrowRight goes back.
      await page.keyboard.press('ArrowLeft');
      await page.waitForFunction(() => document.querySelector('[data-testid=lightbox-name]').textContent === 'blue.png');
      assert.equal(await place(), `${count} من ${count}`);
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction(() => document.querySelector('[data-testid=lightbox-name]').textContent === 'red.png');
      assert.equal(await place(), `${count - 2} من ${count}`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await page.locator('[data-testid=lightbox][open]').count(), 0);
      assert.deepEqual(page.errors, []);
    } finally {
      await browser.close();
    }
  });
});
