//! What crosses the proxy: the browser's headers that reach the upstream (the agent's
//! credentials and content negotiation, nothing else), the upstream's headers that come
//! back, and the upstream's file URLs turned into this origin's.

use std::borrow::Cow;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

use super::Target;

/// Request headers passed to the upstream. Cookies, Origin, Referer, User-Agent,
/// X-Forwarded-*, Accept-Encoding (so the body can be rewritten) and hop-by-hop headers
/// stay here.
const REQUEST_HEADERS: &[&str] = &[
    // Chatwoot's token, both spellings (nginx drops the underscore one by default).
    "api_access_token",
    "api-access-token",
    // devise_token_auth's session headers.
    "access-token",
    "client",
    "uid",
    "expiry",
    "token-type",
    "content-type",
    "content-length",
    "accept",
    "range",
    "if-range",
    "if-none-match",
    "if-modified-since",
];

/// Response headers passed back. `set-cookie` never is: the session cookie of a Rails app
/// has no business on the app's origin.
const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-disposition",
    "content-range",
    "content-encoding",
    "accept-ranges",
    "cache-control",
    "etag",
    "last-modified",
    "expires",
    "vary",
    "retry-after",
    "access-token",
    "client",
    "uid",
    "expiry",
    "token-type",
    "x-content-type-options",
    "content-security-policy",
];

fn copy(from: &HeaderMap, names: &[&'static str]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in names {
        let name = HeaderName::from_static(name);
        for v in from.get_all(&name) {
            out.append(name.clone(), v.clone());
        }
    }
    out
}

pub fn request_headers(browser: &HeaderMap) -> HeaderMap {
    copy(browser, REQUEST_HEADERS)
}

/// The upstream's response headers for the browser; `Location` made relative when it
/// points at the upstream, so a redirect (Active Storage's blob → disk URL) comes back
/// through the proxy.
pub fn response_headers(upstream: &HeaderMap, target: &Target) -> HeaderMap {
    let mut out = copy(upstream, RESPONSE_HEADERS);
    if let Some(loc) = upstream.get(header::LOCATION) {
        let rewritten = loc
            .to_str()
            .ok()
            .map(|l| rewrite_location(l, target))
            .and_then(|l| HeaderValue::from_str(&l).ok())
            .unwrap_or_else(|| loc.clone());
        out.insert(header::LOCATION, rewritten);
    }
    out
}

/// `https://up/base/x?y` → `/x?y`; a relative `/base/x` → `/x`; anything else unchanged.
pub fn rewrite_location(location: &str, target: &Target) -> String {
    let path = if let Some(rest) = location.strip_prefix(target.origin.as_str()) {
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            rest
        } else {
            // `https://up.example.com.evil/...` shares the prefix but not the origin.
            return location.to_owned();
        }
    } else if location.starts_with('/') && !location.starts_with("//") {
        location
    } else {
        return location.to_owned();
    };
    let path = match path.strip_prefix(target.base_path.as_str()) {
        Some(rest) if !target.base_path.is_empty() => rest,
        _ => path,
    };
    if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    }
}

/// The proxy's own origin as the browser addressed it (`http://HOST`), or "" (relative
/// URLs) when the Host header is missing or not a plain host.
pub fn proxy_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    host.map(|h| format!("{proto}://{h}")).unwrap_or_default()
}

/// Turns the upstream's absolute file URLs (Chatwoot writes `data_url`/`thumb_url` with its
/// FRONTEND_URL) into this origin's, so that the app's `img-src 'self'` loads them and
/// they come back through the proxy. Only file URLs: links in message text stay as typed.
#[derive(Debug, Clone)]
pub struct FileUrls {
    from: String,
    to: String,
}

const FILES_PATH: &str = "/rails/active_storage/";

impl FileUrls {
    pub fn new(target: &Target, proxy_origin: &str) -> FileUrls {
        FileUrls {
            from: format!("{}{}{FILES_PATH}", target.origin, target.base_path),
            to: format!("{proxy_origin}{FILES_PATH}"),
        }
    }

    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.contains(&self.from) {
            Cow::Owned(text.replace(&self.from, &self.to))
        } else {
            Cow::Borrowed(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::parse(url).unwrap()
    }

    #[test]
    fn only_credentials_and_negotiation_go_upstream() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("api_access_token", "tok"),
            ("api-access-token", "tok2"),
            ("access-token", "a"),
            ("client", "c"),
            ("uid", "agent@example.com"),
            ("expiry", "123"),
            ("token-type", "Bearer"),
            ("content-type", "application/json"),
            ("content-length", "10"),
            ("accept", "application/json"),
            ("range", "bytes=0-"),
            ("if-none-match", "\"e\""),
            ("if-modified-since", "Tue, 01 Jan 2030 00:00:00 GMT"),
            ("cookie", "_chatwoot_session=secret"),
            ("origin", "http://localhost:8080"),
            ("referer", "http://localhost:8080/app/"),
            ("authorization", "Basic eDp5"),
            ("x-forwarded-for", "10.0.0.1"),
            ("accept-encoding", "gzip"),
            ("connection", "keep-alive"),
            ("user-agent", "Chrome"),
        ] {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let out = request_headers(&h);
        assert_eq!(out.len(), 13);
        for gone in [
            "cookie",
            "origin",
            "referer",
            "authorization",
            "x-forwarded-for",
            "accept-encoding",
            "connection",
            "user-agent",
        ] {
            assert!(out.get(gone).is_none(), "{gone}");
        }
        assert_eq!(out["api_access_token"], "tok");
        assert_eq!(out["uid"], "agent@example.com");
    }

    #[test]
    fn cookies_never_come_back_and_locations_are_rewritten() {
        let t = target("https://chat.example.com");
        let mut h = HeaderMap::new();
        h.insert("set-cookie", HeaderValue::from_static("a=b"));
        h.insert("content-disposition", HeaderValue::from_static("inline"));
        h.insert("access-token", HeaderValue::from_static("new"));
        h.insert("server", HeaderValue::from_static("nginx"));
        h.insert(
            "location",
            HeaderValue::from_static("https://chat.example.com/rails/active_storage/disk/x/a.png"),
        );
        let out = response_headers(&h, &t);
        assert!(out.get("set-cookie").is_none() && out.get("server").is_none());
        assert_eq!(out["content-disposition"], "inline");
        assert_eq!(out["access-token"], "new");
        assert_eq!(out["location"], "/rails/active_storage/disk/x/a.png");
    }

    #[test]
    fn locations_elsewhere_stay() {
        let t = target("https://chat.example.com/cw/");
        assert_eq!(
            rewrite_location("https://chat.example.com/cw/app/login?x=1", &t),
            "/app/login?x=1"
        );
        assert_eq!(rewrite_location("/cw/rails/x", &t), "/rails/x");
        assert_eq!(rewrite_location("https://chat.example.com", &t), "/");
        for unchanged in [
            "https://bucket.s3.amazonaws.com/x?sig=1",
            "https://chat.example.com.evil.test/x",
            "//chat.example.com/x",
        ] {
            assert_eq!(rewrite_location(unchanged, &t), unchanged);
        }
    }

    #[test]
    fn file_urls_point_at_the_proxy_and_other_links_stay() {
        let t = target("http://127.0.0.1:3000");
        let f = FileUrls::new(&t, "http://localhost:8080");
        let json = r#"{"content":"see http://127.0.0.1:3000/app/x","data_url":"http://127.0.0.1:3000/rails/active_storage/blobs/redirect/t/a.png"}"#;
        assert_eq!(
            f.apply(json),
            r#"{"content":"see http://127.0.0.1:3000/app/x","data_url":"http://localhost:8080/rails/active_storage/blobs/redirect/t/a.png"}"#
        );
        assert!(matches!(f.apply("{}"), Cow::Borrowed(_)));
    }

    #[test]
    fn proxy_origin_comes_from_a_plain_host_only() {
        let mut h = HeaderMap::new();
        assert_eq!(proxy_origin(&h), "");
        h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(proxy_origin(&h), "http://127.0.0.1:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(proxy_origin(&h), "https://127.0.0.1:8080");
        h.insert("host", HeaderValue::from_static("evil\"x"));
        assert_eq!(proxy_origin(&h), "");
    }
}
