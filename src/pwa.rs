//! The installable app: the bridge to the service worker and to the browser's storage manager.
//!
//! **Service worker.** Release builds carry `<meta name="outpost-sw" content="/sw.js">` in
//! `index.html` (written by the build's post_build hook, `scripts/pwa-post-build.mjs`); only then
//! is the worker registered, so debug builds and `trunk serve` are never cached. A new version
//! installs in the background and then waits: [`Pwa::update_waiting`] turns true and the
//! update banner offers it. Only the person's click ([`Pwa::apply_update`]) tells the waiting
//! worker to take over, and the page reloads when it does (`controllerchange`). The worker's
//! version, a hash of the build, is asked for by message and shown in Settings.
//!
//! **Storage.** At start the app asks once for persistent storage (`navigator.storage.persist()`),
//! so the browser does not evict offline work under storage pressure, and Settings shows whether
//! it got it and how much space is used ([`StorageReport`]).
//!
//! The wording people see is here, as plain functions, so components only render it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, ServiceWorkerRegistration, ServiceWorkerState, StorageEstimate};

/// How often an open app asks the server whether a new version was deployed (navigations and
/// coming back online also check).
const UPDATE_CHECK: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Where the service worker stands, for Settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerStatus {
    /// This build does not register one (a development build).
    NotInThisBuild,
    /// The browser has no service workers here (e.g. a plain-http address that is not localhost).
    Unsupported,
    /// Registered; the first copy for offline use is being made.
    Preparing,
    /// This version is kept on the device and controls the page.
    Ready(String),
    /// Registration failed.
    Failed(String),
}

impl WorkerStatus {
    /// The "App version" line.
    pub fn label(&self) -> String {
        match self {
            WorkerStatus::NotInThisBuild => {
                "Development build: it is not kept on this device for offline use.".into()
            }
            WorkerStatus::Unsupported => {
                "This browser cannot keep Outpost for offline use at this address.".into()
            }
            WorkerStatus::Preparing => "Saving the app on this device for offline use…".into(),
            WorkerStatus::Ready(version) => {
                format!("{version}, kept on this device for offline use")
            }
            WorkerStatus::Failed(why) => {
                format!("The app could not be saved on this device for offline use ({why}).")
            }
        }
    }
}

/// What the browser says about this site's storage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageReport {
    /// Whether storage is persistent; `None` if the browser cannot say.
    pub persistent: Option<bool>,
    /// Bytes used by this site.
    pub usage: Option<f64>,
    /// Bytes this site may use.
    pub quota: Option<f64>,
}

impl StorageReport {
    /// Whether offline work is safe from eviction, in plain words.
    pub fn persistence_text(&self) -> &'static str {
        match self.persistent {
            Some(true) => "Persistent: the browser will not clear Outpost's data to free space.",
            Some(false) => "Not persistent: the browser may clear Outpost's data if the device runs low on space. Installing Outpost (Add to Home screen) usually makes it persistent; sync often meanwhile.",
            None => "Unknown: this browser does not say whether it keeps Outpost's data.",
        }
    }

    /// How much space is used and available.
    pub fn usage_text(&self) -> String {
        match (self.usage, self.quota) {
            (Some(used), Some(quota)) => format!(
                "{} used of {} available to Outpost",
                format_bytes(used),
                format_bytes(quota)
            ),
            (Some(used), None) => format!("{} used", format_bytes(used)),
            _ => "Unknown: this browser does not say.".into(),
        }
    }
}

/// `512 bytes`, `12.3 kB`, `4.5 MB`, `1.2 GB` (decimal units, as phones show storage).
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if !bytes.is_finite() || bytes < 1000.0 {
        return format!("{} bytes", bytes.max(0.0).round() as u64);
    }
    let mut value = bytes;
    let mut unit = "";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// The app's side of the service worker and of storage persistence.
#[derive(Clone, Copy)]
pub struct Pwa {
    /// Where the service worker stands.
    pub worker: RwSignal<WorkerStatus>,
    /// A new version is installed and waiting for the person to accept it.
    pub update_waiting: RwSignal<bool>,
    /// The person accepted the update; the page reloads once the new version controls it.
    pub updating: RwSignal<bool>,
    /// Storage persistence and usage, once known.
    pub storage: RwSignal<Option<StorageReport>>,
    registration: StoredValue<Option<ServiceWorkerRegistration>, LocalStorage>,
}

/// The PWA state provided by [`crate::app::App`].
pub fn use_pwa() -> Pwa {
    expect_context::<Pwa>()
}

fn has(target: &JsValue, property: &str) -> bool {
    js_sys::Reflect::get(target, &JsValue::from_str(property))
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false)
}

fn message(kind: &str) -> JsValue {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"type".into(), &kind.into());
    object.into()
}

/// The service worker this build asks for, if any (see the module docs).
fn worker_script() -> Option<String> {
    document()
        .query_selector("meta[name='outpost-sw']")
        .ok()
        .flatten()?
        .get_attribute("content")
        .filter(|s| !s.trim().is_empty())
}

impl Pwa {
    /// Creates the state and provides it as context.
    pub fn provide() -> Pwa {
        let pwa = Pwa {
            worker: RwSignal::new(WorkerStatus::NotInThisBuild),
            update_waiting: RwSignal::new(false),
            updating: RwSignal::new(false),
            storage: RwSignal::new(None),
            registration: StoredValue::new_local(None),
        };
        provide_context(pwa);
        pwa
    }

    /// Asks for persistent storage and registers the service worker if this build has one.
    pub fn start(self) {
        spawn_local(async move {
            self.request_persistence().await;
        });
        let navigator = window().navigator();
        let supported = has(&navigator, "serviceWorker");
        let Some(script) = worker_script() else {
            if supported {
                Self::unregister_leftovers();
            }
            return;
        };
        if !supported {
            self.worker.set(WorkerStatus::Unsupported);
            return;
        }
        self.worker.set(WorkerStatus::Preparing);
        let container = navigator.service_worker();

        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let get = |key: &str| js_sys::Reflect::get(&data, &key.into()).ok();
            if get("type").and_then(|t| t.as_string()).as_deref() == Some("VERSION") {
                if let Some(version) = get("version").and_then(|v| v.as_string()) {
                    self.worker.set(WorkerStatus::Ready(version));
                }
            }
        });
        container.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the page

        let on_controller = Closure::<dyn Fn()>::new(move || {
            if self.updating.get_untracked() {
                // Only ever after the person's click: see `apply_update`.
                let _ = window().location().reload();
            } else {
                // The first install took control of this page.
                self.ask_version();
            }
        });
        container.set_oncontrollerchange(Some(on_controller.as_ref().unchecked_ref()));
        on_controller.forget();

        self.ask_version();
        spawn_local(async move {
            match JsFuture::from(container.register(&script)).await {
                Ok(registration) => self.watch(registration.unchecked_into()),
                Err(e) => self.worker.set(WorkerStatus::Failed(
                    e.as_string()
                        .or_else(|| {
                            js_sys::Reflect::get(&e, &"message".into())
                                .ok()?
                                .as_string()
                        })
                        .unwrap_or_else(|| "unknown error".into()),
                )),
            }
        });
    }

    /// Tells the waiting version to take over; the page reloads when it does.
    pub fn apply_update(self) {
        let waiting = self.registration.with_value(|r| r.as_ref()?.waiting());
        match waiting {
            Some(worker) => {
                self.updating.set(true);
                let _ = worker.post_message(&message("SKIP_WAITING"));
            }
            // Nothing waits any more (another tab took the update): just load what is current.
            None => {
                self.updating.set(true);
                let _ = window().location().reload();
            }
        }
    }

    /// Re-reads how much storage is used (Settings calls it when shown).
    pub fn refresh_storage(self) {
        spawn_local(async move {
            let persistent = self.storage.with_untracked(|s| s.as_ref()?.persistent);
            self.storage.set(Some(Self::read_storage(persistent).await));
        });
    }

    /// A development build removes a worker that a release build on the same address left
    /// (`trunk serve` and `scripts/run.sh` both default to port 8080), so it is not cached.
    /// It only runs if this page came from the network, e.g. after a hard reload.
    fn unregister_leftovers() {
        let container = window().navigator().service_worker();
        spawn_local(async move {
            let Ok(registrations) = JsFuture::from(container.get_registrations()).await else {
                return;
            };
            for registration in js_sys::Array::from(&registrations).iter() {
                let registration: ServiceWorkerRegistration = registration.unchecked_into();
                if let Ok(promise) = registration.unregister() {
                    let _ = JsFuture::from(promise).await;
                }
            }
        });
    }

    fn ask_version(self) {
        if let Some(controller) = window().navigator().service_worker().controller() {
            let _ = controller.post_message(&message("VERSION"));
        }
    }

    fn watch(self, registration: ServiceWorkerRegistration) {
        self.registration.set_value(Some(registration.clone()));
        self.check_waiting();
        let on_found = Closure::<dyn Fn()>::new(move || {
            let installing = self.registration.with_value(|r| r.as_ref()?.installing());
            if let Some(worker) = installing {
                let watched = worker.clone();
                let on_state = Closure::<dyn Fn()>::new(move || {
                    if watched.state() == ServiceWorkerState::Installed {
                        self.check_waiting();
                    }
                });
                worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
                on_state.forget();
            }
        });
        registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
        on_found.forget();

        let check = move || self.check_for_update();
        let _ = set_interval_with_handle(check, UPDATE_CHECK);
        let on_online = Closure::<dyn Fn()>::new(check);
        let _ =
            window().add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        on_online.forget();
    }

    /// A version waits only if another one controls the page; the first install just activates.
    fn check_waiting(self) {
        let waiting = self
            .registration
            .with_value(|r| r.as_ref().is_some_and(|r| r.waiting().is_some()));
        if waiting && window().navigator().service_worker().controller().is_some() {
            self.update_waiting.set(true);
        }
    }

    /// Asks the server for a newer sw.js; failures (offline) are expected and ignored.
    pub fn check_for_update(self) {
        let Some(Ok(promise)) = self
            .registration
            .with_value(|r| r.as_ref().map(|r| r.update()))
        else {
            return;
        };
        spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }

    async fn request_persistence(self) {
        let navigator = window().navigator();
        if !has(&navigator, "storage") {
            self.storage.set(Some(StorageReport::default()));
            return;
        }
        let manager = navigator.storage();
        let mut persistent = match manager.persisted() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()),
            Err(_) => None,
        };
        if persistent == Some(false) {
            if let Ok(p) = manager.persist() {
                persistent = JsFuture::from(p).await.ok().and_then(|v| v.as_bool());
            }
        }
        self.storage.set(Some(Self::read_storage(persistent).await));
    }

    async fn read_storage(persistent: Option<bool>) -> StorageReport {
        let navigator = window().navigator();
        let mut report = StorageReport {
            persistent,
            ..StorageReport::default()
        };
        if !has(&navigator, "storage") {
            return report;
        }
        let manager = navigator.storage();
        if report.persistent.is_none() {
            if let Ok(p) = manager.persisted() {
                report.persistent = JsFuture::from(p).await.ok().and_then(|v| v.as_bool());
            }
        }
        if let Ok(p) = manager.estimate() {
            if let Ok(estimate) = JsFuture::from(p).await {
                let estimate: StorageEstimate = estimate.unchecked_into();
                report.usage = estimate.get_usage();
                report.quota = estimate.get_quota();
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_phone_shows_them() {
        assert_eq!(format_bytes(0.0), "0 bytes");
        assert_eq!(format_bytes(999.0), "999 bytes");
        assert_eq!(format_bytes(1000.0), "1.0 kB");
        assert_eq!(format_bytes(12_345.0), "12 kB");
        assert_eq!(format_bytes(4_500_000.0), "4.5 MB");
        assert_eq!(format_bytes(1_234_000_000.0), "1.2 GB");
        assert_eq!(format_bytes(f64::NAN), "0 bytes");
    }

    #[test]
    fn storage_report_says_what_is_known() {
        let report = StorageReport {
            persistent: Some(true),
            usage: Some(2_500_000.0),
            quota: Some(300_000_000_000.0),
        };
        assert!(report.persistence_text().starts_with("Persistent"));
        assert_eq!(
            report.usage_text(),
            "2.5 MB used of 300 GB available to Outpost"
        );
        let unknown = StorageReport::default();
        assert!(unknown.persistence_text().starts_with("Unknown"));
        assert!(unknown.usage_text().starts_with("Unknown"));
        assert!(StorageReport {
            persistent: Some(false),
            ..unknown
        }
        .persistence_text()
        .starts_with("Not persistent"));
    }
}
