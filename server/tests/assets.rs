//! The built app's files as they go over the wire: the precompressed copy Accept-Encoding
//! asks for (the plain file when there is none), hashed files cached for good, everything
//! else revalidated with a 304 when it has not changed; the `/parley/` embed files alike.

mod common;

use common::TestServer;
use reqwest::header::{HeaderMap, ACCEPT_ENCODING};

const HASH: &str = "0123456789abcdef";

/// A dist/ as `trunk build --release` plus scripts/compress-dist.mjs leave it, except that
/// each copy holds words naming it, so a test sees which one was sent: the module has
/// both copies, the wasm only brotli, the stylesheet none.
fn fixture_dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    let write = |name: String, body: &str| std::fs::write(dist.path().join(name), body).unwrap();
    write(
        "index.html".into(),
        &format!(
            r#"<html><head><link rel="stylesheet" href="/parley-{HASH}.css"><script type="module">import init from '/parley-{HASH}.js';init({{module_or_path:'/parley-{HASH}_bg.wasm'}})</script></head><body></body></html>"#
        ),
    );
    write(format!("parley-{HASH}.js"), "plain js");
    write(format!("parley-{HASH}.js.br"), "brotli js");
    write(format!("parley-{HASH}.js.gz"), "gzip js");
    write(format!("parley-{HASH}_bg.wasm"), "plain wasm");
    write(format!("parley-{HASH}_bg.wasm.br"), "brotli wasm");
    write(format!("parley-{HASH}.css"), "plain css");
    write("parley-element.js".into(), "plain element");
    write("parley-element.js.br".into(), "brotli element");
    write("parley-element.js.gz".into(), "gzip element");
    dist
}

async fn server(dist: &tempfile::TempDir) -> TestServer {
    let path = dist.path().to_owned();
    TestServer::start_with(move |c| c.dist = path).await
}

/// Status, headers and body of a GET with these request headers (reqwest here has no
/// decompression: the body is the bytes as sent).
async fn get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let mut req = s.http.get(s.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.expect("answered");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn accept_encoding_picks_the_copy_q_values_included() {
    let dist = fixture_dist();
    let s = server(&dist).await;
    let js = format!("/parley-{HASH}.js");
    for (accept, body, encoding) in [
        // What Chromium sends.
        (Some("gzip, deflate, br, zstd"), "brotli js", Some("br")),
        (Some("br"), "brotli js", Some("br")),
        (Some("gzip"), "gzip js", Some("gzip")),
        (Some("gzip;q=1.0, br;q=0.5"), "gzip js", Some("gzip")),
        (Some("br;q=0, gzip"), "gzip js", Some("gzip")),
        (Some("br;q=0, gzip;q=0"), "plain js", None),
        (Some("identity"), "plain js", None),
        (None, "plain js", None),
    ] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let (status, h, got) = get(&s, &js, &headers).await;
        assert_eq!(
            (status, got.as_str()),
            (200, body),
            "Accept-Encoding: {accept:?}"
        );
        assert_eq!(header(&h, "content-encoding"), encoding, "{accept:?}");
        // The type of the file, not of its compressed copy.
        assert!(
            header(&h, "content-type").unwrap().contains("javascript"),
            "{accept:?}: {h:?}"
        );
        assert_eq!(header(&h, "vary"), Some("accept-encoding"), "{accept:?}");
        assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
    }
    let (_, h, body) = get(
        &s,
        &format!("/parley-{HASH}_bg.wasm"),
        &[(ACCEPT_ENCODING.as_str(), "gzip, deflate, br, zstd")],
    )
    .await;
    assert_eq!(body, "brotli wasm");
    assert_eq!(header(&h, "content-type"), Some("application/wasm"));
    assert_eq!(header(&h, "content-encoding"), Some("br"));
}

#[tokio::test]
async fn a_missing_precompressed_copy_serves_the_plain_file() {
    let dist = fixture_dist();
    let s = server(&dist).await;
    // No copy at all.
    let (status, h, body) = get(
        &s,
        &format!("/parley-{HASH}.css"),
        &[("accept-encoding", "br, gzip")],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "plain css"));
    assert_eq!(header(&h, "content-encoding"), None);
    assert!(header(&h, "content-type").unwrap().starts_with("text/css"));
    // A brotli copy, but the client takes only gzip.
    let (status, h, body) = get(
        &s,
        &format!("/parley-{HASH}_bg.wasm"),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "plain wasm"));
    assert_eq!(header(&h, "content-encoding"), None);
}

#[tokio::test]
async fn hashed_files_are_immutable_the_others_revalidate_with_a_304() {
    let dist = fixture_dist();
    let s = server(&dist).await;
    for file in [
        format!("/parley-{HASH}.js"),
        format!("/parley-{HASH}_bg.wasm"),
        format!("/parley-{HASH}.css"),
    ] {
        let (status, h, _) = get(&s, &file, &[("accept-encoding", "br")]).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(
            header(&h, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{file}"
        );
    }

    let (status, h, body) = get(&s, "/parley-element.js", &[("accept-encoding", "br")]).await;
    assert_eq!((status, body.as_str()), (200, "brotli element"));
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    let modified = header(&h, "last-modified")
        .expect("a validator for the revalidation")
        .to_owned();
    let (status, h, body) = get(
        &s,
        "/parley-element.js",
        &[("accept-encoding", "br"), ("if-modified-since", &modified)],
    )
    .await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));

    // A file that is not there is not cached at all.
    let (status, h, _) = get(&s, "/parley-fedcba9876543210.js", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(header(&h, "cache-control"), None);
}

#[tokio::test]
async fn embed_files_under_stable_names_are_precompressed_and_revalidated() {
    let dist = fixture_dist();
    let s = server(&dist).await;
    for (path, accept, body, encoding, content_type) in [
        (
            "/parley/parley.js",
            "br, gzip",
            "brotli js",
            Some("br"),
            "text/javascript; charset=utf-8",
        ),
        (
            "/parley/parley.js",
            "gzip",
            "gzip js",
            Some("gzip"),
            "text/javascript; charset=utf-8",
        ),
        (
            "/parley/parley_bg.wasm",
            "br",
            "brotli wasm",
            Some("br"),
            "application/wasm",
        ),
        (
            "/parley/parley_bg.wasm",
            "gzip",
            "plain wasm",
            None,
            "application/wasm",
        ),
        (
            "/parley/parley.css",
            "br",
            "plain css",
            None,
            "text/css; charset=utf-8",
        ),
        (
            "/parley/parley-element.js",
            "br",
            "brotli element",
            Some("br"),
            "text/javascript; charset=utf-8",
        ),
    ] {
        let (status, h, got) = get(&s, path, &[("accept-encoding", accept)]).await;
        assert_eq!((status, got.as_str()), (200, body), "{path} {accept}");
        assert_eq!(header(&h, "content-encoding"), encoding, "{path} {accept}");
        assert_eq!(header(&h, "content-type"), Some(content_type), "{path}");
        // The name stays, the content changes with each build.
        assert_eq!(header(&h, "cache-control"), Some("no-cache"), "{path}");
        assert_eq!(header(&h, "vary"), Some("accept-encoding"), "{path}");
        assert_eq!(
            header(&h, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
        let modified = header(&h, "last-modified").expect("validator").to_owned();
        let (status, h, got) = get(
            &s,
            path,
            &[
                ("accept-encoding", accept),
                ("if-modified-since", &modified),
            ],
        )
        .await;
        assert_eq!((status, got.as_str()), (304, ""), "{path} revalidated");
        assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    }
    let (status, _, _) = get(&s, "/parley/index.html", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn generated_pages_carry_an_etag_and_answer_304_while_unchanged() {
    let dist = fixture_dist();
    let s = server(&dist).await;
    for path in [
        "/app/",
        "/examples/embed/",
        "/customer/",
        "/customer/customer.js",
    ] {
        let (status, h, body) = get(&s, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.is_empty());
        assert_eq!(header(&h, "cache-control"), Some("no-cache"), "{path}");
        let etag = header(&h, "etag").expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
            "{etag}"
        );

        let (status, h, body) = get(&s, path, &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
        assert_eq!(header(&h, "etag"), Some(etag.as_str()));
        // A weak form of the same tag and a list holding it match too; another does not.
        let weak = format!("W/{etag}");
        let (status, _, _) = get(&s, path, &[("if-none-match", &weak)]).await;
        assert_eq!(status, 304, "{path} weak");
        let list = format!("\"other\", {etag}");
        let (status, _, _) = get(&s, path, &[("if-none-match", &list)]).await;
        assert_eq!(status, 304, "{path} list");
        let (status, _, body) = get(&s, path, &[("if-none-match", "\"other\"")]).await;
        assert_eq!(status, 200, "{path} stale");
        assert!(!body.is_empty());
    }

    // A new build changes the page, and so its tag: the old copy gets the new page.
    let (_, h, _) = get(&s, "/app/", &[]).await;
    let old = header(&h, "etag").unwrap().to_owned();
    let index = std::fs::read_to_string(dist.path().join("index.html")).unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        index.replace(HASH, "fedcba9876543210"),
    )
    .unwrap();
    let (status, h, body) = get(&s, "/app/", &[("if-none-match", &old)]).await;
    assert_eq!(status, 200);
    assert!(body.contains("fedcba9876543210"));
    assert_ne!(header(&h, "etag"), Some(old.as_str()));
}
