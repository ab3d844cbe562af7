//! Field-level error messages, shown next to the input they are about.

use leptos::prelude::*;
use outpost_core::incident::FieldError;

/// The message for one input, if any.
pub fn message_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

/// `aria-invalid` of the input for `field`: whether the form's errors name it.
pub fn invalid(
    errors: RwSignal<Vec<FieldError>>,
    field: impl Into<String>,
) -> impl Fn() -> &'static str + Clone {
    let field = field.into();
    move || {
        if errors.with(|e| message_for(e, &field).is_some()) {
            "true"
        } else {
            "false"
        }
    }
}

/// A message under an input, linked to it with `aria-describedby="<id>-error"`.
#[component]
pub fn FieldMessage(
    errors: RwSignal<Vec<FieldError>>,
    #[prop(into)] field: String,
    #[prop(into)] id: String,
) -> impl IntoView {
    move || {
        errors
            .with(|e| message_for(e, &field))
            .map(|m| view! { <p class="field-error" id=format!("{id}-error")>{m}</p> })
    }
}
