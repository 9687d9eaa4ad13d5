// <parley-chat>: Parley as a custom element, for host pages that prefer HTML to calling
// mount() themselves. One <script type="module" src=".../parley-element.js"> defines it;
// the module and the wasm are loaded once, from beside this file, whatever the number of
// chats on the page.
//
//   <parley-chat base-url="" account="1" conversation="42" token="..." theme="dark"
//                style="height: 600px"></parley-chat>
//
// Attributes: base-url ("" or absent = this page's origin), account, conversation, token,
// locale, theme ("light", "dark", "auto"). Changing `conversation` switches the chat in
// place; changing another attribute mounts it again. The chat's events bubble from the
// element: parley:message-sent, parley:message-failed, parley:unread-count,
// parley:telemetry, and parley:error when the element cannot show a chat (the reason is
// also shown in the element).
import init, { mount } from './parley.js';

let loading;
function loadParley() {
  loading ??= init({ module_or_path: new URL('./parley_bg.wasm', import.meta.url) });
  return loading;
}

// For a host that also calls mount() itself: resolves once the module is ready, to
// `{ mount }`.
export async function ready() {
  await loadParley();
  return { mount };
}

// What the element says before the module is there, in the chat's language (the catalogs
// live in the wasm, which is what is loading): the `locale` attribute's language, an
// unknown one meaning English as in the app; without one, the browser's first language
// Parley has. Arabic and French say what "chat.loading" says in locales/*.json.
const LOADING = {
  en: { text: 'Loading the chat…', dir: 'ltr' },
  ar: { text: 'جارٍ تحميل المحادثة…', dir: 'rtl' },
  fr: { text: 'Chargement de la conversation…', dir: 'ltr' },
};

function loadingNote(locale) {
  const tags = locale ? [locale] : navigator.languages ?? [];
  const lang = tags.map((t) => t.split(/[-_]/)[0].toLowerCase()).find((l) => l in LOADING);
  return { lang: lang ?? 'en', ...LOADING[lang ?? 'en'] };
}

const NOTE_STYLE = 'all:initial;display:block;padding:12px;font:14px/1.45 system-ui,sans-serif;';
const LOADING_STYLE = `${NOTE_STYLE}color:#6b7385`;
const ERROR_STYLE = `${NOTE_STYLE}color:#c62f3c;background:#fdecee`;

class ParleyChat extends HTMLElement {
  static observedAttributes = ['base-url', 'account', 'conversation', 'token', 'locale', 'theme'];

  #handle = null;
  // Bumped by every (re)mount and disconnect: a mount that finishes loading late for a
  // state that has since changed gives way.
  #generation = 0;

  connectedCallback() {
    this.#remount();
  }

  disconnectedCallback() {
    this.#generation += 1;
    this.#handle?.unmount();
    this.#handle = null;
  }

  attributeChangedCallback(name, previous, value) {
    if (!this.isConnected || previous === value) return;
    if (name === 'conversation' && this.#handle) {
      try {
        this.#handle.setConversation(Number(value));
      } catch (e) {
        this.#fail(e);
      }
      return;
    }
    this.#remount();
  }

  // The conversation shown, or null before the chat is mounted.
  get conversationId() {
    return this.#handle ? this.#handle.conversationId : null;
  }

  async #remount() {
    const generation = ++this.#generation;
    // Until the module is there (the first chat of a page downloads it), say so.
    if (!this.#handle) {
      const note = loadingNote(this.getAttribute('locale'));
      this.#note('status', LOADING_STYLE, note.text, note);
    }
    try {
      await loadParley();
    } catch (e) {
      if (generation === this.#generation) this.#fail(new Error(`Parley could not load: ${e.message ?? e}`));
      return;
    }
    if (generation !== this.#generation || !this.isConnected) return;
    this.#handle?.unmount();
    this.#handle = null;
    try {
      this.#handle = mount(this, this.#config());
    } catch (e) {
      this.#fail(e);
    }
  }

  #config() {
    const config = {
      baseUrl: this.getAttribute('base-url') ?? '',
      conversationId: Number(this.getAttribute('conversation')),
    };
    const account = this.getAttribute('account');
    if (account !== null) config.accountId = Number(account);
    for (const [attribute, key] of [['token', 'token'], ['locale', 'locale'], ['theme', 'theme']]) {
      const value = this.getAttribute(attribute);
      if (value !== null) config[key] = value;
    }
    return config;
  }

  #note(role, style, text, { lang, dir } = {}) {
    const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    const box = document.createElement('p');
    box.setAttribute('role', role);
    if (lang) box.setAttribute('lang', lang);
    if (dir) box.setAttribute('dir', dir);
    box.setAttribute('style', style);
    box.textContent = text;
    root.replaceChildren(box);
  }

  #fail(error) {
    const message = error?.message ?? String(error);
    this.#note('alert', ERROR_STYLE, message);
    this.dispatchEvent(new CustomEvent('parley:error', { detail: { message }, bubbles: true, composed: true }));
  }
}

if (!customElements.get('parley-chat')) customElements.define('parley-chat', ParleyChat);
