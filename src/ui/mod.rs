//! Leptos components, one per file, named by what they show.

pub mod app;
pub mod attachment_list;
pub mod attachment_tray;
pub mod avatar;
pub mod canned_picker;
pub mod chat_screen;
pub mod composer;
pub mod connection_banner;
pub mod conversation_header;
pub mod conversation_list;
pub mod day_separator;
pub mod format_toolbar;
pub mod lightbox;
pub mod log_focus;
pub mod message_actions;
pub mod message_editor;
pub mod message_item;
pub mod message_list;
pub mod pending_files;
pub mod reply_quote;
pub mod send_toast;
pub mod shortcuts_help;
pub mod sign_in;
pub mod typing_indicator;
pub mod unread_divider;
pub mod voice_recorder;
