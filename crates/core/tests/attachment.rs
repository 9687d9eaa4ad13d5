//! Attachments as the log shows them: only safe URLs, readable names and sizes, and a box
//! reserved for images before they load.

use parley_core::attachment::{
    accepted_mime, check_file, file_name, human_size, limit_label, picker_accept, preview_kind,
    safe_url, telemetry_file_type, thumb_box, FileRefusal, PreviewKind,
};

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

const MB: u64 = 1024 * 1024;

#[test]
fn media_and_chatwoots_documents_are_accepted_others_are_not() {
    assert_eq!(
        accepted_mime("image/png", "a.png").as_deref(),
        Some("image/png")
    );
    assert_eq!(
        accepted_mime("video/mp4", "a.mp4").as_deref(),
        Some("video/mp4")
    );
    assert_eq!(
        accepted_mime("audio/ogg", "a.ogg").as_deref(),
        Some("audio/ogg")
    );
    assert_eq!(
        accepted_mime("Text/Plain; charset=utf-8", "a.txt").as_deref(),
        Some("text/plain")
    );
    // A voice note's codec stays with it (and only the codec).
    assert_eq!(
        accepted_mime("audio/ogg; codecs=opus", "voice-note.ogg").as_deref(),
        Some("audio/ogg; codecs=opus")
    );
    assert_eq!(
        accepted_mime("Audio/WebM;codecs=\"OPUS\"; rate=48000", "v.webm").as_deref(),
        Some("audio/webm; codecs=opus")
    );
    assert!(accepted_mime("application/pdf", "a.pdf").is_some());
    assert!(accepted_mime("application/x-7z-compressed", "a.7z").is_some());
    assert_eq!(accepted_mime("application/x-msdownload", "setup.exe"), None);
    assert_eq!(accepted_mime("text/html", "page.html"), None);
    assert_eq!(accepted_mime("application/javascript", "a.js"), None);
    // A bare prefix is not a type.
    assert_eq!(accepted_mime("image/", "x"), None);
}

#[test]
fn a_file_without_a_type_is_judged_by_its_extension() {
    assert_eq!(accepted_mime("", "report.CSV").as_deref(), Some("text/csv"));
    assert_eq!(
        accepted_mime("", "clip.3gpp").as_deref(),
        Some("video/3gpp")
    );
    assert_eq!(accepted_mime("", "tool.exe"), None);
    assert_eq!(accepted_mime("", "no-extension"), None);
}

#[test]
fn the_picker_accepts_the_same_list() {
    let accept = picker_accept();
    assert!(accept.starts_with("image/*,audio/*,video/*,.3gpp,"));
    assert!(accept.contains(",application/pdf,"));
    assert!(!accept.contains(' '));
}

#[test]
fn size_limit_names_the_file_and_the_limit() {
    let e = check_file("big.bin.pdf", "application/pdf", 41 * MB, 0, 40 * MB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "“big.bin.pdf” is 41.0 MB, over the 40 MB limit per file."
    );
    assert_eq!(
        check_file("ok.pdf", "application/pdf", 40 * MB, 0, 40 * MB).as_deref(),
        Ok("application/pdf")
    );
    // A limit below a megabyte is said as it is, not as "0 MB".
    assert_eq!(limit_label(500 * 1024), "500 KB");
    assert_eq!(limit_label(40 * MB), "40 MB");
    assert_eq!(limit_label(MB + 1), "1.0 MB");
}

#[test]
fn type_empty_and_count_refusals_name_the_file() {
    let e = check_file("run.exe", "application/x-msdownload", 10, 0, MB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "“run.exe” can't be sent: this type of file is not accepted."
    );
    assert_eq!(
        check_file("e.txt", "text/plain", 0, 0, MB),
        Err(FileRefusal::Empty {
            name: "e.txt".into()
        })
    );
    assert!(check_file("14.png", "image/png", 1, 14, MB).is_ok());
    let e = check_file("16.png", "image/png", 1, 15, MB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "“16.png” was not added: a message can carry at most 15 files."
    );
}

#[test]
fn previews_and_telemetry_types() {
    assert_eq!(preview_kind("image/webp"), PreviewKind::Image);
    assert_eq!(preview_kind("image/svg+xml"), PreviewKind::Other);
    assert_eq!(preview_kind("video/webm"), PreviewKind::Video);
    assert_eq!(preview_kind("application/pdf"), PreviewKind::Other);
    assert_eq!(telemetry_file_type("image/png"), "image");
    assert_eq!(telemetry_file_type("image/svg+xml"), "file");
    assert_eq!(telemetry_file_type("audio/ogg"), "audio");
    assert_eq!(telemetry_file_type("video/3gpp"), "file");
}

#[test]
fn message_links_are_web_mail_or_phone_only() {
    use parley_core::attachment::safe_link;
    assert_eq!(
        safe_link(" https://shop.example.com/a "),
        Some("https://shop.example.com/a")
    );
    assert_eq!(
        safe_link("mailto:ana@example.com"),
        Some("mailto:ana@example.com")
    );
    assert_eq!(safe_link("tel:+331234"), Some("tel:+331234"));
    for bad in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "/local",
        "https://",
        "http://a b",
        "java\nscript:x",
        "",
    ] {
        assert_eq!(safe_link(bad), None, "{bad:?}");
    }
}

#[test]
fn places_link_to_a_map_and_phones_to_tel() {
    use parley_core::attachment::{map_link, tel_link};
    assert_eq!(
        map_link(48.8584, 2.2945).as_deref(),
        Some(
            "https://www.openstreetmap.org/?mlat=48.858400&mlon=2.294500#map=16/48.858400/2.294500"
        )
    );
    assert_eq!(map_link(91.0, 0.0), None);
    assert_eq!(map_link(f64::NAN, 0.0), None);
    assert_eq!(tel_link("+33 6 12-34").as_deref(), Some("tel:+3361234"));
    assert_eq!(tel_link("none"), None);
}

#[test]
fn map_links_write_six_decimals_of_either_sign() {
    use parley_core::attachment::map_link;
    assert_eq!(
        map_link(-33.8567844, -151.2152967).as_deref(),
        Some("https://www.openstreetmap.org/?mlat=-33.856784&mlon=-151.215297#map=16/-33.856784/-151.215297")
    );
    assert_eq!(
        map_link(-0.5, 0.0000004).as_deref(),
        Some(
            "https://www.openstreetmap.org/?mlat=-0.500000&mlon=0.000000#map=16/-0.500000/0.000000"
        )
    );
}
