//! An avatar: the picture when there is one, else initials on a colour derived from the
//! name (stable, so a person keeps their colour across rows and reloads).

use leptos::prelude::*;

pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = words.first().and_then(|w| w.chars().next());
    let last = words[1.min(words.len())..]
        .last()
        .and_then(|w| w.chars().next());
    match (first, last) {
        (Some(a), Some(b)) => format!("{}{}", a.to_uppercase(), b.to_uppercase()),
        (Some(a), None) => a.to_uppercase().to_string(),
        _ => "?".into(),
    }
}

/// One of eight hues (FNV-1a of the name).
fn hue_class(name: &str) -> String {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    format!("parley-avatar-hue-{}", hash % 8)
}

#[component]
pub fn Avatar(
    #[prop(into)] name: Signal<String>,
    #[prop(into)] url: Signal<Option<String>>,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    let size = if large { " parley-avatar-large" } else { "" };
    // A picture that fails to load (an expired or blocked URL) gives way to the initials.
    let failed = RwSignal::new(None::<String>);
    move || {
        match url.get().filter(|u| failed.with(|f| f.as_ref() != Some(u))) {
        Some(src) => view! {
            <img class=format!("parley-avatar{size}") src=src.clone() alt="" loading="lazy" on:error=move |_| failed.set(Some(src.clone()))/>
        }
        .into_any(),
        None => view! {
            <span class=move || format!("parley-avatar{size} {}", hue_class(&name.get())) aria-hidden="true">
                {move || initials(&name.get())}
            </span>
        }
        .into_any(),
    }
    }
}

#[cfg(test)]
mod tests {
    use super::initials;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn initials_take_first_and_last_words() {
        assert_eq!(initials("Jane Doe"), "JD");
        assert_eq!(initials("jane van der berg"), "JB");
        assert_eq!(initials("Émile"), "É");
        assert_eq!(initials("   "), "?");
    }
}
