//! Random tokens and the stored form of every credential, derived without the database
//! (which stores them: `db` uses these, and `auth` checks requests against `db`).
//!
//! Nothing the server stores lets a reader of the database act as anyone:
//! - passwords are argon2id PHC strings (the RustCrypto crate's defaults, OWASP's
//!   19 MiB / 2 passes / 1 lane);
//! - access tokens are stored as their SHA-256: a token is 24+ random characters, so a
//!   fast digest is enough (nothing to brute-force), and lookup by digest compares no
//!   secret byte by byte;
//! - an agent's pubsub token is derived from the access token it was given with
//!   ([`agent_pubsub_token`]) and stored as its SHA-256. Chatwoot returns the pubsub token
//!   in `/api/v1/profile` and sign-in; this server can do so because those requests carry
//!   the access token, and never needs it anywhere else: the cable hub is keyed by the
//!   digest;
//! - a contact's pubsub token is derived from its `source_id` ([`contact_pubsub_token`])
//!   and stored as its SHA-256. The public API must find contacts by `source_id`, so that
//!   one stays readable; whoever holds it can already fetch the pubsub token from
//!   `GET .../contacts/{source_id}` (as in Chatwoot), so the derivation gives nothing away.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

/// `--agent-token` must be at least this long: Chatwoot's access tokens are Rails'
/// `has_secure_token`, 24 base58 characters (about 140 bits); a shorter token chosen by
/// hand is guessable in a way a generated one is not.
pub const MIN_AGENT_TOKEN_CHARS: usize = 24;

/// A random token of letters and digits (Chatwoot's tokens are 24 such characters).
pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The pubsub token that goes with an access token. Derived rather than random so it can
/// be given back whenever the access token is presented, while the database keeps only
/// digests of both.
pub fn agent_pubsub_token(access_token: &str) -> String {
    sha256_hex(&format!("parley agent pubsub token\n{access_token}"))[..32].to_owned()
}

/// A contact inbox's pubsub token (see the module comment for why it may be derived).
pub fn contact_pubsub_token(source_id: &str) -> String {
    sha256_hex(&format!("parley contact pubsub token\n{source_id}"))[..32].to_owned()
}

/// The key a pubsub token is stored and subscribed under: its SHA-256.
pub fn pubsub_key(pubsub_token: &str) -> String {
    sha256_hex(pubsub_token)
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only a salt or output length outside argon2's bounds fails, and both are fixed.
        .expect("argon2 hashes with its default parameters")
}

/// Whether `password` matches a PHC string (any argon2 variant and cost it names).
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// What databases from before argon2 stored: SHA-256 of `salt:password`, hex. The
/// migration wraps these digests in argon2id at once (see `db`), so this only turns a typed
/// password into what those wrapped hashes were made from.
pub fn legacy_password_digest(salt: &str, password: &str) -> String {
    sha256_hex(&format!("{salt}:{password}"))
}
