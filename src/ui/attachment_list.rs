//! A message's attachments: images as thumbnails (their box reserved before they load, so
//! the log does not jump) that open in the chat's lightbox, video and audio in the
//! browser's own players, anything else as a chip with name, size and download. A file
//! that fails to load, or whose URL is not safe to use, degrades to the chip.

use leptos::prelude::*;
use parley_core::attachment::{file_name, safe_url, thumb_box};
use parley_core::gallery::GalleryImage;
use parley_wire::{Attachment, FileType};

use crate::i18n::{t, t_args};
use crate::ui::contact_card::ContactCard;
use crate::ui::lightbox::Lightbox;
use crate::ui::link_chip::LinkChip;
use crate::ui::location_card::LocationCard;

const THUMB_MAX_W: u32 = 280;
const THUMB_MAX_H: u32 = 240;

/// `text` is the message's text: a shared contact's name, as Chatwoot stores it.
#[component]
pub fn AttachmentList(attachments: Vec<Attachment>, text: Option<String>) -> impl IntoView {
    view! {
        <div class="parley-attachments">
            {attachments.into_iter().map(|a| match a.file_type {
                FileType::Location => view! { <LocationCard attachment=a/> }.into_any(),
                FileType::Contact => view! { <ContactCard attachment=a name=text.clone()/> }.into_any(),
                FileType::Fallback | FileType::Share | FileType::Embed | FileType::IgPost | FileType::IgReel => {
                    view! { <LinkChip label=t("attachment.link") title=a.fallback_title url=a.data_url/> }.into_any()
                }
                _ => view! { <AttachmentView attachment=a/> }.into_any(),
            }).collect_view()}
        </div>
    }
}

#[component]
fn AttachmentView(attachment: Attachment) -> impl IntoView {
    let story = matches!(
        attachment.file_type,
        FileType::StoryMention | FileType::IgStory
    );
    let url = attachment
        .data_url
        .as_deref()
        .and_then(safe_url)
        .map(str::to_owned);
    let name = attachment
        .data_url
        .as_deref()
        .map(file_name)
        .unwrap_or_else(|| t("attachment.file").into());
    let size = attachment.file_size.map(crate::i18n::file_size);
    let broken = RwSignal::new(url.is_none());
    // A story is external media that expires (a day on Instagram): shown while it loads,
    // then a labelled chip.
    if story {
        let label = if attachment.file_type == FileType::StoryMention {
            t("attachment.story_mention")
        } else {
            t("attachment.story_reply")
        };
        let chip = move || view! { <LinkChip label=label title=Some(t("attachment.story_gone").to_owned()) url=None/> };
        return match url {
            Some(src) => view! {
                <Show when=move || !broken.get() fallback=chip>
                    <figure class="parley-story" data-testid="attachment-story">
                        <figcaption class="parley-block-label">{label}</figcaption>
                        <img src=src.clone() alt=label width=THUMB_MAX_W / 2 height=THUMB_MAX_H loading="lazy" on:error=move |_| broken.set(true)/>
                    </figure>
                </Show>
            }
            .into_any(),
            None => chip().into_any(),
        };
    }
    let transcript = attachment
        .transcribed_text
        .clone()
        .filter(|s| !s.trim().is_empty());
    let Some(url) = url else {
        return view! { <FileChip name=name size=size url=None/> }.into_any();
    };
    let chip = {
        let (name, size, url) = (name.clone(), size.clone(), url.clone());
        move || view! { <FileChip name=name.clone() size=size.clone() url=Some(url.clone())/> }
    };
    match attachment.file_type {
        FileType::Image => {
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
            <Show when=move || !broken.get() fallback=chip.clone()>
                <audio class="parley-audio" src=url.clone() controls preload="metadata" data-testid="attachment-audio" on:error=move |_| broken.set(true)></audio>
            </Show>
            {transcript.map(|text| view! {
                <p class="parley-transcript" data-testid="attachment-transcript">
                    <span class="parley-block-label">{t("attachment.transcript")}</span>
                    " "
                    <span dir="auto">{text}</span>
                </p>
            })}
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
