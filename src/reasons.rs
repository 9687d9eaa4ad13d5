//! The core's reasons in the agent's words: the core returns why a send failed or why live
//! updates stopped as data ([`AttemptError`], [`FailReason`], [`Notice`]); here they
//! become sentences of the catalogs, in the locale of the mount that shows them.

use parley_core::connection::Notice;
use parley_core::outbox::{AttemptError, FailReason};

use crate::i18n::{t, t_args, t_count};

/// How one attempt failed.
pub fn attempt_error_text(error: &AttemptError) -> String {
    match error {
        AttemptError::Offline => t("reason.offline").to_owned(),
        AttemptError::Network => t("api.network").to_owned(),
        AttemptError::TimedOut => t("reason.timed_out").to_owned(),
        AttemptError::Http { status: 401 } => t("api.not_signed_in").to_owned(),
        AttemptError::Http { status: 429 } => t("reason.throttled").to_owned(),
        AttemptError::Http { status } => t_args("api.http", &[("status", &status.to_string())]),
        AttemptError::Unreadable => t("reason.unreadable").to_owned(),
        AttemptError::FilesGone => t("outbox.files_gone").to_owned(),
        // Stored by an earlier version in the words of its day: the best there is.
        AttemptError::Earlier(text) => text.clone(),
    }
}

/// Why a message is no longer retried.
pub fn fail_reason_text(reason: &FailReason) -> String {
    match reason {
        FailReason::Refused(error) => attempt_error_text(error),
        FailReason::GaveUp { attempts, last } => {
            let last = match last {
                Some(error) => attempt_error_text(error),
                None => t("reason.no_answer").to_owned(),
            };
            t_count("outbox.gave_up", *attempts as usize, &[("error", &last)])
        }
        FailReason::Earlier(text) => text.clone(),
    }
}

/// Why live updates stopped for good.
pub fn notice_text(notice: &Notice) -> &'static str {
    match notice {
        Notice::ClosedByServer {
            unauthorized: false,
        } => t("cable.closed"),
        Notice::ClosedByServer { unauthorized: true } => t("cable.closed_unauthorized"),
        Notice::Refused => t("cable.refused"),
    }
}
