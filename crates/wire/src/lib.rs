//! Chatwoot agent API and ActionCable wire types.
//!
//! One crate, two users: the Parley app decodes with these types and `parley-server`
//! encodes with them. Because sharing hides disagreement, the tests in `tests/samples.rs`
//! decode the payloads a real Chatwoot sends (`shared/chatwoot/samples/`).
//!
//! Decoding is lenient, as CONTRACTS.md asks: unknown keys are ignored, absent keys default,
//! every nullable field is an `Option`. Encoding follows Chatwoot's jbuilder views: keys that
//! Chatwoot omits (for example `echo_id` outside a create response) are skipped when `None`.

pub mod cable;
pub mod canned;
pub mod content;
pub mod conversation;
pub mod error;
pub mod message;
pub mod profile;
pub mod request;
pub mod sender;

mod lenient;

pub use lenient::from_str;

pub use cable::{CableEvent, ClientCommand, RoomIdentifier, ServerFrame};
pub use canned::CannedResponse;
pub use conversation::{
    ContactInbox, Conversation, ConversationList, ConversationListData, ConversationMeta,
    ConversationPush, ConversationPushMeta, ConversationsMeta, MessagesIndex, MessagesIndexMeta,
};
pub use error::ErrorBody;
pub use message::{
    Attachment, FileType, Message, MessageConversation, MessagePush, MessageStatus, MessageType,
};
pub use profile::{Profile, ProfileAccount, SignInResponse};
pub use request::{NewMessage, SignInRequest, TypingStatus, TypingStatusRequest};
pub use sender::{Agent, Contact, Sender, UserPush};
