//! Priority and state badges.

use leptos::prelude::*;
use outpost_core::{Priority, State};

/// `P1 Critical`, coloured by priority.
#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", priority.code().to_lowercase())>{priority.to_string()}</span> }
}

/// `In Progress`, `On Hold (Awaiting Vendor)`, ...
#[component]
pub fn StateBadge(state: State) -> impl IntoView {
    view! { <span class=format!("badge state state-{}", state.kind().key())>{state.to_string()}</span> }
}
