//! Voice notes, the decisions without a browser: how long a recording may run and when
//! the agent is warned, what a failure to get the microphone means, how the timer reads,
//! and what the file is called. The recording itself is `src/effects/recorder.rs`; the
//! WebM → OGG remux is `parley-media`.

/// The longest voice note: past it, recording stops by itself.
pub const DEFAULT_MAX_MS: u64 = 15 * 60 * 1000;
/// The warning comes this long before the limit (at most; see [`warn_window_ms`]).
pub const WARN_BEFORE_MS: u64 = 60 * 1000;

/// Where a recording stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Nothing to say yet.
    Far,
    /// The last stretch: this much is left (shown as a warning with a countdown).
    Near { left_ms: u64 },
    /// The limit is reached: stop now.
    Reached,
}

/// The warning window for a limit of `max_ms`: the last minute, or the last half of a
/// limit shorter than two minutes (so a short limit still warns, but not from the start).
pub fn warn_window_ms(max_ms: u64) -> u64 {
    WARN_BEFORE_MS.min(max_ms / 2)
}

/// Where a recording `elapsed_ms` long stands against `max_ms`.
pub fn limit(elapsed_ms: u64, max_ms: u64) -> Limit {
    if elapsed_ms >= max_ms {
        Limit::Reached
    } else if max_ms - elapsed_ms <= warn_window_ms(max_ms) {
        Limit::Near {
            left_ms: max_ms - elapsed_ms,
        }
    } else {
        Limit::Far
    }
}

/// "mm:ss" (and "h:mm:ss" past an hour), whole seconds rounded down, as recorders show it.
pub fn clock_label(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// A spoken length: "4 seconds", "1 minute 5 seconds", for screen readers and notices.
pub fn spoken_length(ms: u64) -> String {
    let s = ms / 1000;
    let (m, s) = (s / 60, s % 60);
    let unit = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (m, s) {
        (0, s) => unit(s, "second", "seconds"),
        (m, 0) => unit(m, "minute", "minutes"),
        (m, s) => format!(
            "{} {}",
            unit(m, "minute", "minutes"),
            unit(s, "second", "seconds")
        ),
    }
}

/// The level meter's value, 0–100, from the RMS of a block of samples in −1…1: speech
/// sits around 0.02–0.3 RMS, so the scale is logarithmic over the 60 dB that matter.
pub fn meter_level(samples: &[f32]) -> u8 {
    if samples.is_empty() {
        return 0;
    }
    let mean_square = samples
        .iter()
        .map(|s| f64::from(*s) * f64::from(*s))
        .sum::<f64>()
        / samples.len() as f64;
    let rms = mean_square.sqrt();
    if rms <= 0.0 {
        return 0;
    }
    let db = 20.0 * rms.log10();
    (((db + 60.0) / 60.0).clamp(0.0, 1.0) * 100.0).round() as u8
}

/// Why the microphone could not be used, from the browser's `DOMException` name (or the
/// absence of the API): each calls for a different fix by the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MicError {
    /// The agent (or a policy) refused the permission.
    Denied,
    /// The page embedding Parley does not allow the microphone (permissions policy).
    BlockedByPage,
    /// There is no microphone (or none that fits).
    NoMicrophone,
    /// A microphone exists but could not be opened: another app holds it, or the system
    /// refused it.
    Busy,
    /// Not https (nor localhost): browsers offer no microphone there.
    InsecureContext,
    /// The browser has no `getUserMedia` or no `MediaRecorder`.
    Unsupported,
    /// The microphone went away while recording: unplugged, or its permission withdrawn.
    Lost,
    /// The recording failed after it started.
    Recorder(RecorderFailure),
}

/// How a recording failed once started, each said to the agent in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecorderFailure {
    /// The browser's recorder raised a `DOMException` of this name (its message, in the
    /// browser's English, is for the console, not the agent).
    Browser(String),
    /// The recorder stopped and gave no reason.
    Stopped,
    /// The recorder never handed over its last part.
    DidNotFinish,
    /// The recorder handed over nothing.
    NothingRecorded,
    /// The recorded bytes could not be read.
    Unreadable,
    /// No playable voice note could be made of them.
    NotPrepared,
}

impl MicError {
    /// From `DOMException.name` of a failed `getUserMedia` or recorder (names of old
    /// Chromium too).
    pub fn from_dom_name(name: &str) -> MicError {
        match name {
            "NotAllowedError" | "PermissionDeniedError" => MicError::Denied,
            "SecurityError" => MicError::BlockedByPage,
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => {
                MicError::NoMicrophone
            }
            "NotReadableError" | "TrackStartError" | "AbortError" => MicError::Busy,
            "NotSupportedError" | "TypeError" => MicError::Unsupported,
            "" => MicError::Recorder(RecorderFailure::Stopped),
            _ => MicError::Recorder(RecorderFailure::Browser(name.to_owned())),
        }
    }
}

/// `voice-note-20261125-164904.ogg` for a recording made at `unix_ms` (UTC): sortable,
/// and free of characters a file system or a channel could object to.
pub fn file_name(unix_ms: u64, extension: &str) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, mo, d) = civil_from_days(days as i64);
    format!(
        "voice-note-{y:04}{mo:02}{d:02}-{:02}{:02}{:02}.{extension}",
        rest / 3600,
        (rest / 60) % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm), so the name needs no date library.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_minutes_warn_in_the_last_minute_and_stop_at_the_limit() {
        let max = DEFAULT_MAX_MS;
        assert_eq!(limit(0, max), Limit::Far);
        assert_eq!(limit(14 * 60_000 - 1, max), Limit::Far);
        assert_eq!(limit(14 * 60_000, max), Limit::Near { left_ms: 60_000 });
        assert_eq!(limit(max - 1, max), Limit::Near { left_ms: 1 });
        assert_eq!(limit(max, max), Limit::Reached);
        assert_eq!(limit(max + 5_000, max), Limit::Reached);
    }

    #[test]
    fn a_short_limit_warns_over_its_second_half() {
        assert_eq!(warn_window_ms(10_000), 5_000);
        assert_eq!(limit(4_999, 10_000), Limit::Far);
        assert_eq!(limit(5_000, 10_000), Limit::Near { left_ms: 5_000 });
        assert_eq!(limit(10_000, 10_000), Limit::Reached);
    }

    #[test]
    fn the_clock_reads_like_a_recorder() {
        assert_eq!(clock_label(0), "00:00");
        assert_eq!(clock_label(999), "00:00");
        assert_eq!(clock_label(61_500), "01:01");
        assert_eq!(clock_label(15 * 60_000), "15:00");
        assert_eq!(clock_label(3_600_000 + 62_000), "1:01:02");
    }

    #[test]
    fn lengths_are_spoken_in_words() {
        assert_eq!(spoken_length(1_000), "1 second");
        assert_eq!(spoken_length(4_400), "4 seconds");
        assert_eq!(spoken_length(60_000), "1 minute");
        assert_eq!(spoken_length(125_000), "2 minutes 5 seconds");
    }

    #[test]
    fn the_meter_is_silent_for_silence_full_for_full_scale_and_monotonic_between() {
        assert_eq!(meter_level(&[]), 0);
        assert_eq!(meter_level(&[0.0; 128]), 0);
        assert_eq!(meter_level(&[1.0, -1.0, 1.0, -1.0]), 100);
        // −60 dBFS and below reads as nothing.
        assert_eq!(meter_level(&[0.001; 64]), 0);
        let quiet = meter_level(&[0.01; 64]);
        let speech = meter_level(&[0.1; 64]);
        let loud = meter_level(&[0.5; 64]);
        assert!(0 < quiet && quiet < speech && speech < loud && loud < 100);
        // −20 dBFS is two thirds of the way up.
        assert_eq!(speech, 67);
    }

    #[test]
    fn dom_exceptions_map_to_what_the_agent_can_fix() {
        let browser = |name: &str| MicError::Recorder(RecorderFailure::Browser(name.into()));
        for (name, error) in [
            ("NotAllowedError", MicError::Denied),
            ("PermissionDeniedError", MicError::Denied),
            ("SecurityError", MicError::BlockedByPage),
            ("NotFoundError", MicError::NoMicrophone),
            ("DevicesNotFoundError", MicError::NoMicrophone),
            ("OverconstrainedError", MicError::NoMicrophone),
            ("NotReadableError", MicError::Busy),
            ("TrackStartError", MicError::Busy),
            ("AbortError", MicError::Busy),
            ("NotSupportedError", MicError::Unsupported),
            ("TypeError", MicError::Unsupported),
            ("EncodingError", browser("EncodingError")),
            ("", MicError::Recorder(RecorderFailure::Stopped)),
        ] {
            assert_eq!(MicError::from_dom_name(name), error, "{name}");
        }
    }

    #[test]
    fn file_names_carry_the_utc_date_and_time() {
        assert_eq!(file_name(0, "ogg"), "voice-note-19700101-000000.ogg");
        // 2026-11-25 16:49:04 UTC.
        assert_eq!(
            file_name(1_795_625_344_000, "ogg"),
            "voice-note-20261125-164904.ogg"
        );
        // A leap day, and the WebM fallback's extension.
        assert_eq!(
            file_name(1_709_164_800_999, "webm"),
            "voice-note-20240229-000000.webm"
        );
    }
}
