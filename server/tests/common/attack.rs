//! What every attack test checks beside its refusal: the agent is still answered, promptly.

use std::time::{Duration, Instant};

/// "Promptly": far above a loaded 2-core machine's normal answer, far below a stall.
pub const PROMPT: Duration = Duration::from_secs(2);

/// An HTTP client. reqwest's rustls is built without a crypto provider of its own (the
/// server installs one; a test that only runs the binary must install it too).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The agent's conversation list, answered 200 and read whole within [`PROMPT`]; returns how
/// long it took.
pub async fn assert_agent_answered(base_url: &str, token: &str) -> Duration {
    let started = Instant::now();
    let answer = async {
        let res = http()
            .get(format!("{base_url}/api/v1/accounts/1/conversations"))
            .header("api_access_token", token)
            .send()
            .await
            .expect("the agent's request is answered");
        assert_eq!(res.status(), 200);
        res.bytes().await.expect("the agent's answer is read whole");
    };
    tokio::time::timeout(PROMPT, answer)
        .await
        .expect("the agent is answered promptly during the attack");
    started.elapsed()
}
