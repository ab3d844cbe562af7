//! When work runs: long work split into short tasks, and the one rule for work a page starts.
//!
//! **Slices.** [`next_task`] is the one way this app gives the browser its main thread back
//! between slices of work (a search over every incident, saving a pull's backlog), so input and
//! painting are never held up for long.
//!
//! **Work a page starts ends with the page.** A page's timers, tasks and continuations touch
//! its signals, which are disposed when the person navigates away; touching one then panics.
//! So every page makes one [`PageScope`] when it is created and starts all its deferred work
//! through it:
//! - [`PageScope::spawn`]: work for the page alone (loading a view, a search scan); it is
//!   dropped at its next await once the page is gone;
//! - [`PageScope::after`]: a timer (a debounced input); it never fires once the page is gone;
//! - [`PageScope::finish`]: work that must complete whatever the page does (saving a
//!   command), with a continuation that runs only if the page is still there.
//!
//! App-wide work (the repo, sync, the service worker) lives as long as the page itself and uses
//! `spawn_local` directly.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use leptos::prelude::{set_timeout, IsDisposed, StoredValue};
use leptos::task::spawn_local;

/// Resolves in a later task (a zero-delay timer), so the browser can handle input and paint first.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scheduled =
            web_sys::window().is_some_and(|w| w.set_timeout_with_callback(&resolve).is_ok());
        if !scheduled {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The lifetime of a page: work started through it stops when the reactive owner that made it
/// (the page's or section's component) is cleaned up. A handle, so closures copy it freely.
#[derive(Clone, Copy, Debug)]
pub struct PageScope {
    /// Disposed with the owner that made it: that is the whole signal.
    token: StoredValue<()>,
}

impl PageScope {
    /// A scope that ends when the current reactive owner is cleaned up. Make it in the
    /// component's body, not inside an effect (whose owner is cleaned up on every re-run).
    #[allow(clippy::new_without_default)] // it belongs to the owner current when it is made
    pub fn new() -> PageScope {
        PageScope {
            token: StoredValue::new(()),
        }
    }

    /// Whether the page is still there.
    pub fn is_alive(self) -> bool {
        !self.token.is_disposed()
    }

    /// Runs `work` for the page: it is never polled again once the page is gone, so none of its
    /// code after an await runs then.
    pub fn spawn(self, work: impl Future<Output = ()> + 'static) {
        let mut work = Box::pin(work);
        spawn_local(std::future::poll_fn(move |cx| {
            if self.is_alive() {
                work.as_mut().poll(cx)
            } else {
                Poll::Ready(())
            }
        }));
    }

    /// Calls `f` after `delay`, unless the page is gone by then.
    pub fn after(self, delay: Duration, f: impl FnOnce() + 'static) {
        set_timeout(
            move || {
                if self.is_alive() {
                    f();
                }
            },
            delay,
        );
    }

    /// Runs `work` to the end whatever happens to the page (it saves something), then `then`
    /// with its result only if the page is still there.
    pub fn finish<T: 'static>(
        self,
        work: impl Future<Output = T> + 'static,
        then: impl FnOnce(T) + 'static,
    ) {
        spawn_local(async move {
            let result = work.await;
            if self.is_alive() {
                then(result);
            }
        });
    }
}
