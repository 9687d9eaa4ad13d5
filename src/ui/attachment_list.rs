//! A message's attachments: images as thumbnails (their box reserved before they load, so
//! the log does not jump) that open in the chat's lightbox, video and audio in the
//! browser's own players, anything else as a chip with name, size and download. A file
//! that fails to load, or whose URL is not safe to use, degrades to the chip.

use leptos::prelude::*;
use parley_core::attachment::{file_name, safe_url, thumb_box};
use parley_core::gallery::GalleryImage;
use parley_wire::{Attachment, FileType};

use crate::i18n::{t, t_args};
use crate::ui::lightbox::Lightbox;

const THUMB_MAX_W: u32 = 280;
const THUMB_MAX_H: u32 = 240;

/// Places, contacts and links are drawn with the message's blocks
/// (`parley_core::blocks`); the files here.
#[component]
pub fn AttachmentList(attachments: Vec<Attachment>) -> impl IntoView {
    view! {
        <div class="parley-attachments">
            {attachments
                .into_iter()
                .filter(|a| !parley_core::blocks::draws(a))
                .map(|a| view! { <AttachmentView attachment=a/> })
                .collect_view()}
        </div>
    }
}

#[component]
fn AttachmentView(attachment: Attachment) -> impl IntoView {
    // An Instagram story is an image on the CDN that expires: shown as one, named by what
    // it is, so that once gone its chip still says so.
    let story = match attachment.file_type {
        FileType::StoryMention => Some(t("attachment.story_mention")),
        FileType::IgStory => Some(t("attachment.story_reply")),
        _ => None,
    };
    let url = attachment
        .data_url
        .as_deref()
        .and_then(safe_url)
        .map(str::to_owned);
    let name = match story {
        Some(label) => label.to_owned(),
        None => attachment
            .data_url
            .as_deref()
            .map(file_name)
            .unwrap_or_else(|| t("attachment.file").into()),
    };
    let size = attachment.file_size.map(crate::i18n::file_size);
    let broken = RwSignal::new(url.is_none());
    let Some(url) = url else {
        return view! { <FileChip name=name size=size url=None/> }.into_any();
    };
    let chip = {
        let (name, size, url) = (name.clone(), size.clone(), url.clone());
        move || view! { <FileChip name=name.clone() size=size.clone() url=Some(url.clone())/> }
    };
    match attachment.file_type {
        FileType::Image | FileType::StoryMention | FileType::IgStory => {
            let thumb = attachment
                .thumb_url
                .as_deref()
                .filter(|t| !t.is_empty())
                .and_then(safe_url)
                .map_or_else(|| url.clone(), str::to_owned);
            let (w, h) = thumb_box(attachment.width, attachment.height, THUMB_MAX_W, THUMB_MAX_H)
                .unwrap_or((THUMB_MAX_W, THUMB_MAX_H * 3 / 4));
            let alt = t_args("attachment.image_alt", &[("name", &name)]);
            let img = move || {
                view! {
                    <img
                        src=thumb.clone()
                        alt=alt.clone()
                        width=w
                        height=h
                        loading="lazy"
                        decoding="async"
                        on:error=move |_| broken.set(true)
                    />
                }
            };
            // In a chat screen the thumbnail opens the lightbox; elsewhere (or for a file
            // the lightbox cannot show) it links to the image.
            let opens = Lightbox::from_context().zip(GalleryImage::of(&attachment));
            match opens {
                Some((lightbox, image)) => {
                    let label = t_args("lightbox.open", &[("name", &name)]);
                    let id = image.id;
                    view! {
                        <Show when=move || !broken.get() fallback=chip.clone()>
                            <button
                                type="button"
                                class="parley-thumb"
                                data-testid="attachment-image"
                                aria-haspopup="dialog"
                                aria-label=label.clone()
                                data-lightbox-id=id
                                on:click={
                                    let image = image.clone();
                                    move |_| lightbox.open(image.clone())
                                }
                            >
                                {img.clone()}
                            </button>
                        </Show>
                    }
                    .into_any()
                }
                None => view! {
                    <Show when=move || !broken.get() fallback=chip.clone()>
                        <a class="parley-thumb" href=url.clone() target="_blank" rel="noopener noreferrer" data-testid="attachment-image">
                            {img.clone()}
                        </a>
                    </Show>
                }
                .into_any(),
            }
        }
        FileType::Video => view! {
            <Show when=move || !broken.get() fallback=chip>
                <video class="parley-video" src=url.clone() controls preload="metadata" data-testid="attachment-video" on:error=move |_| broken.set(true)></video>
            </Show>
        }
        .into_any(),
        FileType::Audio => view! {
            <Show when=move || !broken.get() fallback=chip>
                <audio class="parley-audio" src=url.clone() controls preload="metadata" data-testid="attachment-audio" on:error=move |_| broken.set(true)></audio>
            </Show>
        }
        .into_any(),
        _ => view! { <FileChip name=name size=size url=Some(url)/> }.into_any(),
    }
}

/// Icon, name, size, and a download link when the file can be fetched.
#[component]
fn FileChip(name: String, size: Option<String>, url: Option<String>) -> impl IntoView {
    let label = t_args("attachment.download_label", &[("name", &name)]);
    view! {
        <div class="parley-file-chip" data-testid="attachment-file">
            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                <path d="M4 1.5h5l3.5 3.5v9.5h-8.5z" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
                <path d="M9 1.5V5h3.5" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
            </svg>
            <span class="parley-file-name" title=name.clone()>{name.clone()}</span>
            {size.map(|s| view! { <span class="parley-file-size">{s}</span> })}
            {match url {
                Some(url) => view! {
                    <a class="parley-link-button" href=url download=name target="_blank" rel="noopener noreferrer" aria-label=label>
                        {t("attachment.download")}
                    </a>
                }.into_any(),
                None => view! { <span class="parley-muted">{t("attachment.unavailable")}</span> }.into_any(),
            }}
        </div>
    }
}
