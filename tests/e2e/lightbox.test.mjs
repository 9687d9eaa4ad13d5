// Issue 5, the lightbox: an image thumbnail opens the image at full size in a modal dialog,
// by click and by keyboard; the arrows (and the on-screen buttons) move through the images
// of the loaded messages in order; Escape or the close button close it and focus goes back
// to the thumbnail; nothing behind it moves. It keeps working when the virtualized log
// unmounts the thumbnail's row while it is open.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { AGENT_TOKEN, DIST, Server, launchBrowser, makeLongConversation, newPage } from './harness.mjs';

const THUMB = '[data-testid=attachment-image]';
const LIGHTBOX = '[data-testid=lightbox]';

/** A small PNG of one colour, so each image is a different file. */
function png(width, height, [r, g, b]) {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([r, g, b, 255], i * 4);
  return PNG.sync.write(image);
}

/** The customer sends `files` ([name, bytes]) in one message through the public API. */
async function customerSendsImages(server, files) {
  const { inbox, contact, conversation } = server.customerIds();
  const body = new FormData();
  for (const [name, bytes] of files) body.append('attachments[]', new Blob([bytes], { type: 'image/png' }), name);
  const res = await fetch(`${server.baseUrl}/public/api/v1/inboxes/${inbox}/contacts/${contact}/conversations/${conversation}/messages`, {
    method: 'POST',
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

/** What the lightbox shows now, and where focus is. */
function lightboxState(page) {
  return page.evaluate(() => {
    const d = document.querySelector('[data-testid=lightbox]');
    const img = d.querySelector('[data-testid=lightbox-image]');
    const active = document.activeElement;
    return {
      open: d.open,
      modal: d.matches(':modal'),
      role: d.getAttribute('role'),
      ariaModal: d.getAttribute('aria-modal'),
      label: d.getAttribute('aria-label'),
      name: d.querySelector('[data-testid=lightbox-name]').textContent,
      place: d.querySelector('[data-testid=lightbox-place]').textContent,
      src: img?.getAttribute('src') ?? null,
      focusInside: d.contains(active),
      focusedThumb: active?.getAttribute('data-lightbox-id') ?? null,
      focusedTestId: active?.getAttribute('data-testid') ?? null,
    };
  });
}

describe('the lightbox', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    await customerSendsImages(server, [
      ['red.png', png(640, 400, [200, 40, 40])],
      ['green.png', png(300, 500, [40, 160, 60])],
    ]);
    await customerSendsImages(server, [['blue.png', png(800, 600, [40, 60, 200])]]);
    browser = await launchBrowser();
    agent = await newPage(browser);
    await agent.goto(server.info.agentUrl);
    await agent.locator(THUMB).nth(2).waitFor();
    // Connected: the connection banner has gone, so the log no longer moves by itself.
    await agent.locator('[data-testid=connection-state][data-state=connected]').waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  const thumbs = () => agent.locator(`${THUMB}`);
  const thumbOf = (name) => agent.locator(`${THUMB}[aria-label="Open image ${name}"]`);

  test('thumbnails are buttons that say what they open', async () => {
    const info = await thumbs().evaluateAll((els) =>
      els.map((el) => ({ tag: el.tagName, popup: el.getAttribute('aria-haspopup'), label: el.getAttribute('aria-label'), id: el.getAttribute('data-lightbox-id') })),
    );
    // The customer's three, in the order they were sent, at the end of the log (the
    // demo's own image is further up, maybe not rendered).
    assert.deepEqual(
      info.map((i) => i.label).slice(-3),
      ['Open image red.png', 'Open image green.png', 'Open image blue.png'],
    );
    for (const i of info) {
      assert.equal(i.tag, 'BUTTON');
      assert.equal(i.popup, 'dialog');
      assert.match(i.id, /^\d+$/);
    }
  });

  test('a click opens the full image in a modal dialog, focus inside, nothing behind moves', async () => {
    const list = agent.locator('[data-testid=message-list]');
    const before = await list.evaluate((el) => ({ top: el.scrollTop, rect: el.getBoundingClientRect().toJSON(), page: document.scrollingElement.scrollTop }));
    assert.equal(await agent.locator(LIGHTBOX).isVisible(), false, 'closed at first');

    await thumbOf('green.png').click();
    await agent.locator(`${LIGHTBOX}[open]`).waitFor();
    const s = await lightboxState(agent);
    assert.equal(s.open, true);
    assert.equal(s.modal, true, 'opened with showModal: the chat behind is inert');
    assert.equal(s.role, 'dialog');
    assert.equal(s.ariaModal, 'true');
    assert.equal(s.label, 'Image: green.png');
    assert.equal(s.name, 'green.png');
    assert.equal(s.place, '3 of 4');
    assert.equal(s.focusInside, true, 'focus moved into the dialog');
    assert.equal(s.focusedTestId, 'lightbox-close');
    // The full image (not the thumbnail), loaded, at its own proportions.
    const img = await agent.locator('[data-testid=lightbox-image]').evaluate(async (el) => {
      if (!el.complete) await new Promise((r) => el.addEventListener('load', r, { once: true }));
      const r = el.getBoundingClientRect();
      return { natural: [el.naturalWidth, el.naturalHeight], shown: [r.width, r.height] };
    });
    assert.deepEqual(img.natural, [300, 500]);
    assert.ok(Math.abs(img.shown[0] / img.shown[1] - 300 / 500) < 0.02, `aspect kept: ${img.shown}`);
    // The dialog covers the viewport.
    const box = await agent.locator(LIGHTBOX).boundingBox();
    assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 1100, 800]);

    const during = await list.evaluate((el) => ({ top: el.scrollTop, rect: el.getBoundingClientRect().toJSON(), page: document.scrollingElement.scrollTop }));
    assert.deepEqual(during, before, 'the log and the page did not move');
  });

  test('arrows move through the images in order and stop at the ends', async () => {
    await agent.keyboard.press('ArrowRight');
    let s = await lightboxState(agent);
    assert.deepEqual([s.name, s.place], ['blue.png', '4 of 4']);
    assert.equal(await agent.locator('[data-testid=lightbox-next]').getAttribute('aria-disabled'), 'true');
    await agent.keyboard.press('ArrowRight');
    s = await lightboxState(agent);
    assert.deepEqual([s.name, s.place], ['blue.png', '4 of 4'], 'no wrap past the last');

    await agent.keyboard.press('ArrowLeft');
    await agent.keyboard.press('ArrowLeft');
    await agent.keyboard.press('ArrowLeft');
    s = await lightboxState(agent);
    assert.deepEqual([s.name, s.place], ['cracked-base.png', '1 of 4']);
    assert.equal(s.focusInside, true);
    assert.equal(await agent.locator('[data-testid=lightbox-prev]').getAttribute('aria-disabled'), 'true');

    // The on-screen buttons do the same.
    await agent.locator('[data-testid=lightbox-next]').click();
    s = await lightboxState(agent);
    assert.deepEqual([s.name, s.place], ['red.png', '2 of 4']);
    assert.match(decodeURIComponent(s.src), /\/red\.png$/);
    assert.equal(s.focusInside, true, 'focus stays in the dialog after a button click');
    await agent.keyboard.press('End');
    assert.equal((await lightboxState(agent)).name, 'blue.png');
    await agent.keyboard.press('Home');
    assert.equal((await lightboxState(agent)).name, 'cracked-base.png');
  });

  test('Escape closes it and focus returns to the thumbnail it was opened from', async () => {
    const greenId = await thumbOf('green.png').getAttribute('data-lightbox-id');
    await agent.keyboard.press('Escape');
    await agent.locator(`${LIGHTBOX}:not([open])`).waitFor({ state: 'attached' });
    const s = await lightboxState(agent);
    assert.equal(s.open, false);
    assert.equal(s.focusedThumb, greenId);
  });

  test('the keyboard opens it too, and the close button closes it', async () => {
    const red = thumbOf('red.png');
    // (Focusing it may scroll the log, and the rows that enter above move this one in the
    // DOM: the focus stays on it all the same, see src/ui/log_focus.rs.)
    await red.focus();
    await agent.keyboard.press('Enter');
    await agent.locator(`${LIGHTBOX}[open]`).waitFor();
    assert.equal((await lightboxState(agent)).name, 'red.png');
    await agent.keyboard.press('ArrowRight');
    assert.equal((await lightboxState(agent)).name, 'green.png');
    // Tab stays inside the modal dialog.
    for (let i = 0; i < 6; i++) {
      await agent.keyboard.press('Tab');
      assert.equal((await lightboxState(agent)).focusInside, true, `Tab ${i + 1} stays inside`);
    }
    await agent.locator('[data-testid=lightbox-close]').click();
    await agent.locator(`${LIGHTBOX}:not([open])`).waitFor({ state: 'attached' });
    assert.equal((await lightboxState(agent)).focusedThumb, await red.getAttribute('data-lightbox-id'));
  });

  test('the original opens in a new tab, without access to this page', async () => {
    await thumbOf('blue.png').click();
    const link = agent.locator('[data-testid=lightbox-original]');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.match(decodeURIComponent(await link.getAttribute('href')), /^https?:\/\/.*\/blue\.png$/);
    await agent.keyboard.press('Escape');
  });

  test('no page errors', () => {
    assert.deepEqual(agent.errors, []);
  });
});

describe('the lightbox over a virtualized log', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let agent;

  before(async () => {
    server = await Server.start({ demo: true });
    // Every 25th message has an image: the newest page holds one (the last message).
    const long = await makeLongConversation(server, 200);
    browser = await launchBrowser();
    agent = await newPage(browser);
    const url = new URL(server.info.agentUrl);
    url.pathname = `/app/accounts/1/conversations/${long.conversation_id}`;
    await agent.goto(url.href);
    await agent.locator(`[data-testid=message][data-id="${long.last_message_id}"] ${THUMB}`).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  test('its thumbnail row unmounts while it is open: it keeps moving, and focus lands on the log', async () => {
    const thumb = agent.locator(THUMB).last();
    const id = await thumb.getAttribute('data-lightbox-id');
    await thumb.click();
    await agent.locator(`${LIGHTBOX}[open]`).waitFor();
    assert.equal((await lightboxState(agent)).place, '1 of 1');

    // Behind the dialog, the log scrolls to the top and loads older pages until the
    // thumbnail's row has left the DOM.
    const list = agent.locator('[data-testid=message-list]');
    for (let i = 0; i < 12; i++) {
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      await agent.waitForTimeout(300);
      if ((await agent.locator(`[data-lightbox-id="${id}"]`).count()) === 0 && (await agent.locator('[data-testid=message]').count()) > 0) {
        const place = (await lightboxState(agent)).place;
        if (!place.endsWith(' of 1')) break;
      }
    }
    assert.equal(await agent.locator(`[data-lightbox-id="${id}"]`).count(), 0, 'the thumbnail row is unmounted');
    let s = await lightboxState(agent);
    assert.equal(s.open, true, 'still open');
    const [at, count] = s.place.split(' of ').map(Number);
    assert.ok(count >= 2 && at === count, `the newest image is the last of the loaded ones: ${s.place}`);

    await agent.keyboard.press('ArrowLeft');
    s = await lightboxState(agent);
    assert.equal(s.place, `${count - 1} of ${count}`);
    assert.match(s.name, /history\.png$/);

    await agent.keyboard.press('Escape');
    await agent.locator(`${LIGHTBOX}:not([open])`).waitFor({ state: 'attached' });
    s = await lightboxState(agent);
    assert.equal(s.focusedTestId, 'message-list', 'focus is not lost: it is on the log');
    assert.deepEqual(agent.errors, []);
  });
});

describe('the lightbox in a chat mounted into a host page (Shadow DOM)', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let host;

  before(async () => {
    server = await Server.start({ demo: true });
    browser = await launchBrowser();
    host = await newPage(browser);
    const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
    const js = html.match(/\/parley-[0-9a-f]+\.js/)[0];
    const wasm = html.match(/\/parley-[0-9a-f]+_bg\.wasm/)[0];
    await host.goto(`${server.baseUrl}/api/v1/host-page-of-the-lightbox-test`);
    await host.setContent(`<!doctype html><html><body>
        <div id="chat" style="height: 700px"></div>
        <script type="module">
          import init, { mount } from '${js}';
          await init({ module_or_path: '${wasm}' });
          window.chat = mount(document.getElementById('chat'), { baseUrl: '', accountId: 1, conversationId: 1, token: '${AGENT_TOKEN}' });
        </script></body></html>`);
    await host.locator('[data-testid=connection-state][data-state=connected]').waitFor();
    await host.locator('[data-testid=message-list]').evaluate((el) => {
      el.scrollTop = 0;
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.dispose();
  });

  /** The focused element inside the chat's shadow root. */
  const focused = () =>
    host.evaluate(() => {
      const root = document.getElementById('chat').shadowRoot;
      const a = root.activeElement;
      const d = root.querySelector('[data-testid=lightbox]');
      return { inside: d.contains(a), thumb: a?.getAttribute('data-lightbox-id') ?? null, open: d.open, modal: d.matches(':modal') };
    });

  test('opens modal, Tab stays inside, Escape returns focus to the thumbnail', async () => {
    const thumb = host.locator(THUMB).first();
    await thumb.focus();
    await host.keyboard.press('Enter');
    await host.locator(`${LIGHTBOX}[open]`).waitFor();
    let f = await focused();
    assert.deepEqual([f.open, f.modal, f.inside], [true, true, true]);
    for (let i = 0; i < 4; i++) {
      await host.keyboard.press('Tab');
      assert.equal((await focused()).inside, true, `Tab ${i + 1} stays inside`);
    }
    await host.keyboard.press('Shift+Tab');
    assert.equal((await focused()).inside, true, 'Shift+Tab stays inside');
    await host.keyboard.press('Escape');
    await host.locator(`${LIGHTBOX}:not([open])`).waitFor({ state: 'attached' });
    f = await focused();
    assert.equal(f.thumb, await thumb.getAttribute('data-lightbox-id'));
    assert.deepEqual(host.errors.filter((e) => !/favicon|host-page-of-the-lightbox-test/.test(e)), []);
  });
});
