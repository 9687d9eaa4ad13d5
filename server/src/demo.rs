//! First-start data. With `--demo`: a support team with realistic history, so a newcomer's
//! first screen is a real conversation. Without: one account, one inbox and the agent, so
//! the app and the customer page work on an empty install.

use std::path::Path;

use rusqlite::Connection;
use serde_json::{json, Value};

use crate::auth::{self, hash_password, random_token, MIN_AGENT_TOKEN_CHARS};
use crate::config::Config;
use crate::db::{self, Db, ACTIVITY, INCOMING, OUTGOING};
use crate::files;
use crate::StartError;

pub const AGENT_EMAIL: &str = "agent@parley.test";
pub const DEMO_PASSWORD: &str = "parley-demo";

/// What the start-up lines and the app page need to know.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub agent_email: String,
    /// The demo password when the agent still has it (only printed with `--demo`); empty
    /// otherwise: the database keeps only a hash.
    pub agent_password: String,
    /// The token this start gave the agent (`--agent-token`, or a new one with `--demo`);
    /// empty when neither: the database keeps only digests of earlier ones.
    pub agent_token: String,
    pub account_id: i64,
    pub inbox_identifier: String,
    pub customer_query: Option<String>,
}

impl Seeded {
    pub fn agent_path(&self) -> String {
        format!("/app/accounts/{}/conversations/1", self.account_id)
    }
}

const DAY: i64 = 24 * 3600 * 1000;
const MIN: i64 = 60 * 1000;

pub fn prepare(db: &Db, config: &Config, uploads: &Path) -> Result<Seeded, StartError> {
    if let Some(token) = &config.agent_token {
        if token.chars().count() < MIN_AGENT_TOKEN_CHARS {
            return Err(StartError::ShortAgentToken {
                min: MIN_AGENT_TOKEN_CHARS,
            });
        }
    }
    db.tx(|c| -> Result<Seeded, StartError> {
        if db::account_count(c)? == 0 {
            if config.demo {
                seed_demo(c, uploads)?;
            } else {
                seed_minimal(c)?;
            }
        }
        let agent = db::user_by_email(c, AGENT_EMAIL)?
            .or(db::user(c, 1)?)
            .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        let now = db::now_ms();
        // Only a digest of the token is kept, so a token the server must show (the demo's
        // page and start-up lines) is made anew on each start; `--agent-token` keeps one.
        let agent_token = match &config.agent_token {
            Some(token) => token.clone(),
            None if config.demo => random_token(24),
            None => String::new(),
        };
        if !agent_token.is_empty() {
            db::set_configured_token(c, agent.id, &agent_token, now)?;
        }
        let agent_password = if config.demo
            && db::user_password(c, agent.id)?.is_some_and(|p| {
                auth::check_password(&p, DEMO_PASSWORD) != auth::PasswordCheck::Invalid
            }) {
            DEMO_PASSWORD.to_owned()
        } else {
            String::new()
        };
        let account_id = db::memberships(c, agent.id)?
            .first()
            .map(|m| m.account.id)
            .unwrap_or(1);
        let inbox = db::first_inbox(c, account_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        Ok(Seeded {
            agent_email: agent.email,
            agent_password,
            agent_token,
            account_id,
            inbox_identifier: inbox.inbox_identifier,
            customer_query: db::setting(c, "demo_customer_query")?,
        })
    })
}

fn new_user(
    c: &Connection,
    name: &str,
    email: &str,
    password: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    db::insert_user(
        c,
        &db::NewUser {
            name,
            email,
            password_hash: &hash_password(password),
        },
        now,
    )
}

fn seed_minimal(c: &Connection) -> Result<(), StartError> {
    let now = db::now_ms();
    let account = db::insert_account(c, "Parley", now)?;
    db::insert_inbox(
        c,
        account,
        "Website",
        "Channel::WebWidget",
        &random_token(24),
    )?;
    // Never shown: outside the demo the agent signs in with `--agent-token`'s token.
    let password = random_token(24);
    let agent = new_user(c, "Agent", AGENT_EMAIL, &password, now)?;
    db::add_account_user(c, account, agent, "administrator", now)?;
    Ok(())
}

struct ContactSeed {
    contact_id: i64,
    contact_inbox_id: i64,
    source_id: String,
}

fn new_contact(
    c: &Connection,
    account_id: i64,
    inbox_id: i64,
    name: &str,
    email: &str,
    at: i64,
) -> rusqlite::Result<ContactSeed> {
    let contact_id = db::insert_contact(
        c,
        &db::NewContact {
            account_id,
            name: Some(name),
            email: Some(email),
            phone_number: None,
            identifier: None,
        },
        at,
    )?;
    let source_id = uuid::Uuid::new_v4().to_string();
    let contact_inbox_id = db::insert_contact_inbox(c, contact_id, inbox_id, &source_id, at)?;
    Ok(ContactSeed {
        contact_id,
        contact_inbox_id,
        source_id,
    })
}

/// One line of seeded history.
enum Who {
    Contact,
    Agent(i64),
    /// Activity (no sender).
    System,
}

struct Line<'a> {
    at: i64,
    from: Who,
    text: Option<&'a str>,
    private: bool,
    upload: Option<&'a files::StoredUpload>,
}

fn line<'a>(at: i64, from: Who, text: &'a str) -> Line<'a> {
    Line {
        at,
        from,
        text: Some(text),
        private: false,
        upload: None,
    }
}

fn conversation(
    c: &Connection,
    account_id: i64,
    inbox_id: i64,
    contact: &ContactSeed,
    assignee: Option<i64>,
    status: &str,
    lines: &[Line],
) -> rusqlite::Result<i64> {
    let created = lines.first().map(|l| l.at).unwrap_or_else(db::now_ms);
    let attrs = json!({
        "browser": {"browser_name": "Chrome", "platform_name": "macOS"},
        "referer": "https://acme.example/help",
    });
    let id = db::insert_conversation(
        c,
        &db::NewConversation {
            account_id,
            inbox_id,
            contact_id: contact.contact_id,
            contact_inbox_id: contact.contact_inbox_id,
            assignee_id: assignee,
            status,
            uuid: &uuid::Uuid::new_v4().to_string(),
            additional_attributes: &attrs,
        },
        created,
    )?;
    let conv = db::conversation(c, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let empty: Value = json!({});
    for l in lines {
        let (message_type, sender_type, sender_id) = match l.from {
            Who::Contact => (INCOMING, Some("Contact"), Some(contact.contact_id)),
            Who::Agent(u) => (OUTGOING, Some("User"), Some(u)),
            Who::System => (ACTIVITY, None, None),
        };
        let mid = db::insert_message(
            c,
            &db::NewMessage {
                conversation: &conv,
                message_type,
                content_type: "text",
                content: l.text,
                // The customer has read the history: replies show as read.
                status: if message_type == OUTGOING && !l.private {
                    "read"
                } else {
                    "sent"
                },
                private: l.private,
                content_attributes: &empty,
                sender_type,
                sender_id,
                echo_id: None,
            },
            l.at,
        )?;
        if let Some(u) = l.upload {
            db::insert_attachment(c, &u.as_new(mid, account_id), l.at)?;
        }
        if let Some(m) = db::message(c, mid)? {
            db::note_message_activity(c, &m)?;
        }
        if matches!(l.from, Who::Contact) {
            db::touch_contact(c, contact.contact_id, l.at)?;
        }
    }
    Ok(id)
}

fn seed_demo(c: &Connection, uploads: &Path) -> Result<(), StartError> {
    let now = db::now_ms();
    let start = now - 4 * DAY;
    let acme = db::insert_account(c, "Acme Support", start)?;
    let widget = db::insert_inbox(
        c,
        acme,
        "Acme Website",
        "Channel::WebWidget",
        &random_token(24),
    )?;
    let alex = new_user(c, "Alex Morgan", AGENT_EMAIL, DEMO_PASSWORD, start)?;
    let jordan = new_user(c, "Jordan Lee", "jordan@parley.test", DEMO_PASSWORD, start)?;
    db::add_account_user(c, acme, alex, "administrator", start)?;
    db::add_account_user(c, acme, jordan, "agent", start)?;

    // A second account with its own agent, so isolation can be tried for real.
    let globex = db::insert_account(c, "Globex Help", start)?;
    let globex_inbox = db::insert_inbox(
        c,
        globex,
        "Globex Website",
        "Channel::WebWidget",
        &random_token(24),
    )?;
    let sam = new_user(c, "Sam Rivera", "sam@parley.test", DEMO_PASSWORD, start)?;
    db::add_account_user(c, globex, sam, "administrator", start)?;

    let maya = new_contact(c, acme, widget, "Maya Chen", "maya.chen@example.com", start)?;
    let daniel = new_contact(
        c,
        acme,
        widget,
        "Daniel Okafor",
        "daniel@example.org",
        start,
    )?;
    let priya = new_contact(
        c,
        acme,
        widget,
        "Priya Sharma",
        "priya.s@example.net",
        start,
    )?;
    let lucas = new_contact(c, acme, widget, "Lucas Silva", "lucas@example.com", start)?;
    let nina = new_contact(
        c,
        globex,
        globex_inbox,
        "Nina Patel",
        "nina@example.com",
        start,
    )?;

    let io = StartError::Seed;
    let photo =
        files::store_bytes(uploads, "cracked-base.png", "image/png", &demo_png()).map_err(io)?;
    let pdf = files::store_bytes(
        uploads,
        "replacement-order-48213.pdf",
        "application/pdf",
        &demo_pdf(),
    )
    .map_err(StartError::Seed)?;

    // Conversation 1: the first thing a newcomer sees.
    let d3 = now - 3 * DAY;
    let d1 = now - DAY;
    let c1 = conversation(
        c,
        acme,
        widget,
        &maya,
        Some(alex),
        "open",
        &[
            line(d3, Who::Contact, "Hi! My **Aurora desk lamp** (order #48213) arrived with a cracked base 😕"),
            Line { at: d3 + MIN, from: Who::Contact, text: Some("Here's a photo of the damage"), private: false, upload: Some(&photo) },
            line(
                d3 + 6 * MIN,
                Who::Agent(alex),
                "Hi Maya, I'm really sorry about that! Thanks for the photo, it makes this much easier.\n\nHere's what happens next:\n- I'm shipping a **replacement** today, no need to send the damaged one back\n- You'll get a tracking link by email\n- If anything else is off, just reply here",
            ),
            Line { at: d3 + 8 * MIN, from: Who::Agent(alex), text: Some("Warehouse says batch 7 lamps had packaging issues. Flagged to ops, no need to mention it to the customer."), private: true, upload: None },
            line(d3 + 10 * MIN, Who::Contact, "Wow, that was quick. Thank you!"),
            Line { at: d3 + 12 * MIN, from: Who::Agent(alex), text: Some("Here's the confirmation for your replacement order:"), private: false, upload: Some(&pdf) },
            line(d3 + 30 * MIN, Who::System, "Conversation was marked resolved by Alex Morgan"),
            line(d1, Who::Contact, "Hi again! The tracking page has said `LABEL_CREATED` for two days. Is that normal?"),
            line(d1 + MIN, Who::System, "Conversation was reopened by Maya Chen"),
            line(
                d1 + 9 * MIN,
                Who::Agent(alex),
                "Good question! Carriers sometimes take up to 48 hours for the first scan. You can follow it here: https://tracking.example.com/48213\n\nI'll keep an eye on it too.",
            ),
            line(now - 25 * MIN, Who::Contact, "It just moved to *in transit* 🎉 One more question: does the replacement come with the USB-C adapter?"),
        ],
    )?;
    // The agent read everything but the customer's last message: one unread.
    db::set_agent_last_seen(c, c1, now - 30 * MIN, true)?;
    db::set_contact_last_seen(c, c1, d1 + 10 * MIN)?;

    let d2 = now - 2 * DAY;
    let c2 = conversation(
        c,
        acme,
        widget,
        &daniel,
        Some(alex),
        "open",
        &[
            line(d2, Who::Contact, "I'm getting this error when calling your API:\n\n```\nHTTP/1.1 429 Too Many Requests\nRetry-After: 30\n```\n\nAm I being rate limited?"),
            line(
                d2 + 14 * MIN,
                Who::Agent(alex),
                "You are: the free plan allows **60 requests per minute**. Two options:\n\n1. Retry after the `Retry-After` delay (a backoff helps)\n2. Upgrade to Pro for 600 requests per minute\n\nDetails: https://docs.example.com/rate-limits",
            ),
            line(d2 + 20 * MIN, Who::Contact, "Thanks, upgrading now."),
        ],
    )?;
    db::set_agent_last_seen(c, c2, now, true)?;

    let c3 = conversation(
        c,
        acme,
        widget,
        &priya,
        None,
        "open",
        &[
            line(d2 + 3 * 3600 * 1000, Who::Contact, "Do you ship to Canada?"),
            line(
                d2 + 3 * 3600 * 1000 + 5 * MIN,
                Who::Agent(jordan),
                "We do! Shipping to Canada takes 5 to 7 business days.",
            ),
            line(
                now - 3 * 3600 * 1000,
                Who::Contact,
                "Great. And what about customs fees?",
            ),
        ],
    )?;
    db::set_agent_last_seen(c, c3, d2 + 3 * 3600 * 1000 + 5 * MIN, false)?;

    let c4 = conversation(
        c,
        acme,
        widget,
        &lucas,
        Some(jordan),
        "resolved",
        &[
            line(
                now - 4 * DAY + 3600 * 1000,
                Who::Contact,
                "Can I still change my delivery address?",
            ),
            line(
                now - 4 * DAY + 3600 * 1000 + 7 * MIN,
                Who::Agent(jordan),
                "Done ✅ Your order will go to the new address.",
            ),
            line(
                now - 4 * DAY + 3600 * 1000 + 20 * MIN,
                Who::System,
                "Conversation was marked resolved by Jordan Lee",
            ),
        ],
    )?;
    db::set_agent_last_seen(c, c4, now, false)?;

    conversation(
        c,
        globex,
        globex_inbox,
        &nina,
        Some(sam),
        "open",
        &[line(
            now - 2 * 3600 * 1000,
            Who::Contact,
            "Hello from Globex! Is my invoice ready?",
        )],
    )?;

    for (code, text) in [
        ("greet", "Hello {{contact.name}}, thanks for reaching out! I'm {{agent.name}} and I'll help you today."),
        ("refund", "Refunds are processed within 5-7 business days after we receive the item."),
        ("shipping", "We ship worldwide. Orders leave our warehouse within 24 hours on business days."),
        ("tracking", "You can follow your parcel at https://tracking.example.com with your order number."),
        ("thanks", "Thanks for your patience, {{contact.name}}!"),
        ("closing", "Is there anything else I can help you with? Have a great day!\n{{agent.name}}"),
    ] {
        db::insert_canned(c, acme, code, text, start)?;
    }
    db::insert_canned(
        c,
        globex,
        "hello",
        "Hi {{contact.name}}, Globex here.",
        start,
    )?;

    let inbox = db::inbox(c, widget)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    db::set_setting(
        c,
        "demo_customer_query",
        &format!(
            "inbox={}&contact={}&conversation=1",
            inbox.inbox_identifier, maya.source_id
        ),
    )?;
    Ok(())
}

// -----------------------------------------------------------------------------------------
// Generated demo files: no binary fixtures in the repo.

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A 320×200 RGB picture (a lamp base with a crack), zlib with stored blocks.
pub fn demo_png() -> Vec<u8> {
    let (w, h) = (320u32, 200u32);
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            // Background gradient.
            let mut px = [
                (235.0 - yf * 0.3) as u8,
                (240.0 - yf * 0.2) as u8,
                (250.0 - yf * 0.1) as u8,
            ];
            // The lamp base: an ellipse.
            let (dx, dy) = ((xf - 160.0) / 110.0, (yf - 130.0) / 45.0);
            if dx * dx + dy * dy <= 1.0 {
                px = [70, 80, 100];
            }
            // The stem.
            if (150.0..170.0).contains(&xf) && yf < 95.0 && yf > 20.0 {
                px = [90, 100, 120];
            }
            // The crack: a zigzag across the base.
            let crack_y = 110.0 + ((xf - 100.0) * 0.35) + ((xf / 6.0).sin() * 4.0);
            if (100.0..230.0).contains(&xf) && (yf - crack_y).abs() < 1.6 {
                px = [240, 200, 60];
            }
            raw.extend_from_slice(&px);
        }
    }
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(chunk);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &z);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A one-page PDF with a short order confirmation.
pub fn demo_pdf() -> Vec<u8> {
    let text = "BT /F1 22 Tf 72 720 Td (Acme Support) Tj ET\n\
                BT /F1 14 Tf 72 690 Td (Replacement order #48213-R) Tj ET\n\
                BT /F1 12 Tf 72 660 Td (Item: Aurora desk lamp - ships today, free of charge.) Tj ET\n";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for off in offsets {
        out.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let png = demo_png();
        assert_eq!(files::image_size(&png), Some((320, 200)));
        // IHDR's CRC matches what a decoder computes.
        let ihdr = &png[12..29];
        let crc = u32::from_be_bytes(png[29..33].try_into().unwrap());
        assert_eq!(crc32(ihdr), crc);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn pdf_has_a_valid_xref() {
        let pdf = String::from_utf8(demo_pdf()).unwrap();
        let start: usize = pdf
            .lines()
            .skip_while(|l| *l != "startxref")
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[start..].starts_with("xref"));
        assert!(pdf.contains("1 0 obj"));
    }
}
