//! The images the lightbox moves through: every image attachment of the loaded messages,
//! in display order, with a URL that is safe to load. Deciding it here (not from the DOM)
//! keeps it right while the virtualized log has unmounted most rows.

use parley_wire::{Attachment, FileType, Message};

use crate::attachment::{file_name, safe_url};
use crate::store::Row;

/// One image the lightbox can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalleryImage {
    /// The attachment's id: what a thumbnail and the lightbox agree on.
    pub id: i64,
    /// The full image (never the thumbnail), a URL [`safe_url`] accepts.
    pub url: String,
    pub name: String,
}

impl GalleryImage {
    /// The attachment as a lightbox image, when it is an image the lightbox may open: it
    /// has an id (a server's attachment, not a local one) and a safe URL.
    pub fn of(attachment: &Attachment) -> Option<GalleryImage> {
        if attachment.file_type != FileType::Image || attachment.id <= 0 {
            return None;
        }
        let raw = attachment.data_url.as_deref()?;
        let url = safe_url(raw)?;
        Some(GalleryImage {
            id: attachment.id,
            url: url.to_owned(),
            name: file_name(raw),
        })
    }
}

/// The images of `rows` (display order), message by message, each message's in its order.
/// Deleted messages show nothing, so they offer nothing.
pub fn images<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<GalleryImage> {
    rows.into_iter()
        .map(|row| &row.message)
        .filter(|m| !m.is_deleted())
        .flat_map(Message::attachments)
        .filter_map(GalleryImage::of)
        .collect()
}

/// Where image `id` is among `images`, as (index, count), for "2 of 5"; `None` when it is
/// no longer among them (its message was deleted while it was open).
pub fn position(images: &[GalleryImage], id: i64) -> Option<(usize, usize)> {
    images
        .iter()
        .position(|i| i.id == id)
        .map(|i| (i, images.len()))
}

/// The image `step` places from image `id` (−1 the previous, +1 the next); `None` past
/// either end (the lightbox does not wrap: the end of the conversation is an end) or when
/// `id` is not among `images`.
pub fn neighbour(images: &[GalleryImage], id: i64, step: isize) -> Option<&GalleryImage> {
    let (at, _) = position(images, id)?;
    images.get(at.checked_add_signed(step)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MessageStore;
    use serde_json::json;

    fn attachment(id: i64, file_type: &str, url: &str) -> serde_json::Value {
        json!({
            "id": id, "message_id": 1, "file_type": file_type, "account_id": 1,
            "data_url": url, "thumb_url": format!("{url}?thumb"),
        })
    }

    fn message(id: i64, attachments: Vec<serde_json::Value>, deleted: bool) -> Message {
        serde_json::from_value(json!({
            "id": id, "content": "", "conversation_id": 1, "message_type": 0,
            "created_at": 1_000 + id, "attachments": attachments,
            "content_attributes": if deleted { json!({"deleted": true}) } else { json!({}) },
        }))
        .unwrap()
    }

    fn store(messages: Vec<Message>) -> MessageStore {
        let mut s = MessageStore::new();
        for m in messages {
            s.upsert(m);
        }
        s
    }

    #[test]
    fn images_in_display_order_skipping_other_files_unsafe_urls_and_deleted_messages() {
        let s = store(vec![
            // Inserted out of order: the gallery follows the display order.
            message(3, vec![attachment(31, "image", "/files/c%20d.png")], false),
            message(
                1,
                vec![
                    attachment(11, "image", "/files/a.png"),
                    attachment(12, "file", "/files/report.pdf"),
                    attachment(13, "image", "https://cdn.example.com/b.jpg"),
                ],
                false,
            ),
            message(
                2,
                vec![
                    attachment(21, "image", "javascript:alert(1)"),
                    attachment(22, "audio", "/files/v.ogg"),
                ],
                false,
            ),
            message(4, vec![attachment(41, "image", "/files/gone.png")], true),
        ]);
        let got = images(s.rows());
        let ids: Vec<i64> = got.iter().map(|i| i.id).collect();
        assert_eq!(ids, vec![11, 13, 31]);
        assert_eq!(got[0].url, "/files/a.png");
        assert_eq!(got[2].name, "c d.png");
        // The full image, not the thumbnail.
        assert!(got.iter().all(|i| !i.url.contains("thumb")));
    }

    #[test]
    fn an_attachment_without_a_server_id_is_not_offered() {
        let s = store(vec![message(
            1,
            vec![attachment(0, "image", "/files/a.png")],
            false,
        )]);
        assert!(images(s.rows()).is_empty());
    }

    #[test]
    fn neighbours_stop_at_both_ends_and_position_counts_from_one_list() {
        let s = store(vec![message(
            1,
            vec![
                attachment(11, "image", "/a.png"),
                attachment(12, "image", "/b.png"),
                attachment(13, "image", "/c.png"),
            ],
            false,
        )]);
        let list = images(s.rows());
        assert_eq!(position(&list, 12), Some((1, 3)));
        assert_eq!(neighbour(&list, 12, 1).map(|i| i.id), Some(13));
        assert_eq!(neighbour(&list, 12, -1).map(|i| i.id), Some(11));
        assert_eq!(neighbour(&list, 11, -1), None);
        assert_eq!(neighbour(&list, 13, 1), None);
        assert_eq!(neighbour(&list, 99, 1), None);
        assert_eq!(position(&list, 99), None);
    }
}
