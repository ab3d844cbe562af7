//! Priority and state badges.

use leptos::prelude::*;
use outpost_core::{Priority, State};

/// `P1 Critical`, coloured by priority, in the workspace's words (following its changes).
#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    let state = crate::state::use_app();
    let label = move || state.workspace.with(|w| w.config.priority_label(priority));
    view! { <span class=format!("badge badge-{}", priority.code().to_lowercase())>{label}</span> }
}

/// `In Progress`, `On Hold (Awaiting Vendor)`, ...
#[component]
pub fn StateBadge(state: State) -> impl IntoView {
    view! { <span class=format!("badge state state-{}", state.kind().key())>{state.to_string()}</span> }
}
