//! The standalone app's four URL shapes and in-page navigation between them.
//!
//! A few lines instead of `leptos_router`: Parley has four fixed routes with two integer
//! parameters, and the router's generic route matching and views cost the wasm tens of KB
//! (issue 12, the bundle budget). What it did for Parley is kept: the URL is the route's
//! truth (`location.pathname`), a click on a same-origin `/app/` link and [`navigate`] push
//! a history entry without reloading, Back and Forward (`popstate`) follow.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Where the standalone app is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/app`, `/app/login`: the sign-in form (or straight on once signed in).
    SignIn,
    /// `/app/accounts/:account_id/conversations`.
    List {
        account_id: i64,
    },
    /// `/app/accounts/:account_id/conversations/:conversation_id`.
    Chat {
        account_id: i64,
        conversation_id: i64,
    },
    NotFound,
}

impl Route {
    /// The route of a URL path; a trailing slash changes nothing, an id that is not an
    /// integer is [`Route::NotFound`].
    pub fn of(path: &str) -> Route {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let id = |s: &str| s.parse::<i64>().ok();
        match segments.as_slice() {
            ["app"] | ["app", "login"] => Route::SignIn,
            ["app", "accounts", a, "conversations"] => {
                id(a).map_or(Route::NotFound, |account_id| Route::List { account_id })
            }
            ["app", "accounts", a, "conversations", c] => match (id(a), id(c)) {
                (Some(account_id), Some(conversation_id)) => Route::Chat {
                    account_id,
                    conversation_id,
                },
                _ => Route::NotFound,
            },
            _ => Route::NotFound,
        }
    }
}

/// The current path, shared with [`navigate`] through the context.
#[derive(Clone, Copy)]
struct CurrentPath(RwSignal<String>);

fn location_path() -> String {
    window().location().pathname().unwrap_or_default()
}

/// The route of the page's URL, following in-page navigation and Back/Forward. Call once,
/// in the standalone app's root; [`navigate`] and link clicks inside `root` move it.
pub fn provide_routes() -> Memo<Route> {
    let path = RwSignal::new(location_path());
    provide_context(CurrentPath(path));
    let on_popstate = Closure::<dyn Fn()>::new(move || path.set(location_path()));
    let _ =
        window().add_event_listener_with_callback("popstate", on_popstate.as_ref().unchecked_ref());
    // The standalone app lives as long as its page.
    on_popstate.forget();
    Memo::new(move |_| path.with(|p| Route::of(p)))
}

/// Go to `to` (a path of this origin) in the page: a new history entry, no reload.
pub fn navigate(to: &str) {
    if let Some(CurrentPath(path)) = use_context::<CurrentPath>() {
        if let Ok(history) = window().history() {
            if history
                .push_state_with_url(&JsValue::NULL, "", Some(to))
                .is_ok()
            {
                path.set(location_path());
                return;
            }
        }
    }
    let _ = window().location().set_href(to);
}

/// A plain left click on a same-origin link into the app (no modifier key, no `target`,
/// no `download`) becomes in-page navigation, as a router's links do; anything else is left
/// to the browser.
pub fn follow_link_in_page(ev: &web_sys::MouseEvent) {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return;
    }
    let Some(anchor) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("a[href]").ok().flatten())
    else {
        return;
    };
    if anchor.has_attribute("download")
        || anchor.get_attribute("target").is_some_and(|t| t != "_self")
        || anchor
            .get_attribute("rel")
            .is_some_and(|r| r.contains("external"))
    {
        return;
    }
    let Some(href) = anchor.get_attribute("href") else {
        return;
    };
    let Ok(url) =
        web_sys::Url::new_with_base(&href, &window().location().href().unwrap_or_default())
    else {
        return;
    };
    let same_origin = window()
        .location()
        .origin()
        .is_ok_and(|o| o == url.origin());
    let path = url.pathname();
    if same_origin && (path == "/app" || path.starts_with("/app/")) {
        ev.prevent_default();
        navigate(&format!("{path}{}{}", url.search(), url.hash()));
    }
}
