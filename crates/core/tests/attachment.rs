//! Attachments as the log shows them: only safe URLs, readable names and sizes, and a box
//! reserved for images before they load.

use parley_core::attachment::{file_name, human_size, safe_url, thumb_box};

#[test]
fn only_http_https_and_same_origin_paths_are_used() {
    for ok in [
        "https://cdn.example/a.png",
        "HTTP://cdn.example/a.png",
        "//cdn.example/a.png",
        "/rails/active_storage/blobs/redirect/abc/photo.png",
    ] {
        assert_eq!(safe_url(ok), Some(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "blob:https://x/y",
        "java\nscript:alert(1)",
        "/\\evil.example/x",
        "photo.png",
        "",
    ] {
        assert_eq!(safe_url(bad), None, "{bad:?}");
    }
}

#[test]
fn the_name_is_the_last_segment_decoded() {
    assert_eq!(
        file_name("/rails/active_storage/blobs/redirect/tok/Order%20confirmation.pdf?disposition=attachment"),
        "Order confirmation.pdf"
    );
    assert_eq!(
        file_name("https://x.example/a/b/c%C3%A9.txt#frag"),
        "cé.txt"
    );
    assert_eq!(file_name("https://x.example/"), "file");
    // A broken escape stays as typed.
    assert_eq!(file_name("/x/100%.txt"), "100%.txt");
    // Markup in a name is just text here; the UI renders it as text.
    assert_eq!(file_name("/x/%3Cimg%20src%3Dx%3E.png"), "<img src=x>.png");
}

#[test]
fn sizes_read_like_a_file_manager() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(812), "812 B");
    assert_eq!(human_size(12 * 1024 + 100), "12 KB");
    assert_eq!(human_size(3_565_158), "3.4 MB");
    assert_eq!(human_size(-5), "0 B");
}

#[test]
fn images_keep_their_shape_and_never_grow() {
    assert_eq!(thumb_box(Some(1200), Some(800), 280, 240), Some((280, 187)));
    assert_eq!(thumb_box(Some(400), Some(1600), 280, 240), Some((60, 240)));
    assert_eq!(thumb_box(Some(100), Some(50), 280, 240), Some((100, 50)));
    assert_eq!(thumb_box(None, Some(50), 280, 240), None);
    assert_eq!(thumb_box(Some(0), Some(50), 280, 240), None);
}
