//! The agent's own typing: one `on` per burst, `off` after 4 s idle, on send and on
//! leaving (Chatwoot's `createTypingIndicator(on, off, 4000)`).

use leptos::prelude::*;
use parley_wire::TypingStatus;

use crate::effects::clock::Timer;
use crate::state::chat::ChatState;
use crate::state::typing::LOCAL_IDLE_MS;

impl ChatState {
    /// A keystroke in the composer: `on` at the start of a burst, `off` after 4 s idle.
    pub fn typing_input(self) {
        let started = self
            .typing
            .local_active
            .try_update_value(|active| !std::mem::replace(active, true))
            .unwrap_or(false);
        if started {
            self.post_typing(TypingStatus::On);
        }
        let idle = Timer::after(LOCAL_IDLE_MS, move || self.typing_stop());
        self.typing.local_idle.try_set_value(Some(idle));
    }

    /// Send, blur, leaving the screen: end the burst now.
    pub fn typing_stop(self) {
        self.typing.local_idle.try_set_value(None);
        let was_active = self
            .typing
            .local_active
            .try_update_value(|active| std::mem::replace(active, false))
            .unwrap_or(false);
        if was_active {
            self.post_typing(TypingStatus::Off);
        }
    }

    fn post_typing(self, status: TypingStatus) {
        // Also called while the screen is being torn down: the state may be gone already.
        let Some(api) = self.try_api() else {
            return;
        };
        let (account, conversation) = (self.account_id, self.conversation_id);
        // Private: the customer's widget drops it, other agents see "(private note)".
        let private = self.private_mode.try_get_untracked().unwrap_or(false);
        leptos::task::spawn_local(async move {
            // Typing is best effort: a lost indicator is not worth interrupting the agent.
            let _ = api
                .toggle_typing(account, conversation, status, private)
                .await;
        });
    }
}
