//! The automation peer's way into this relay: a connection to the hub made of two channels
//! instead of a socket (frames are the same bytes a device sends), the workspace documents'
//! ids, and reference prefixes from the relay's table. The automation itself is
//! `outpost-automation`; this module only connects it.

use std::sync::{Arc, Mutex};

use outpost_automation::peer::{Link, Relay};
use outpost_judge::WorkspaceDocuments;
use outpost_sync::hub::Grant;
use outpost_sync::DocumentId;
use tokio::sync::mpsc;

use crate::server::now_seconds;
use crate::service::{Budget, Outbound, SyncService};
use crate::storage::Storage;

/// The relay, as the automation sees it.
pub struct InProcess {
    pub(crate) service: Arc<SyncService>,
    pub(crate) storage: Arc<Mutex<Storage>>,
    pub(crate) workspaces: WorkspaceDocuments,
    /// Where people reach the app: set from the configuration, or once the relay listens.
    pub(crate) public_url: Arc<std::sync::RwLock<url::Url>>,
}

impl InProcess {
    fn storage(&self) -> Result<std::sync::MutexGuard<'_, Storage>, String> {
        self.storage
            .lock()
            .map_err(|_| "the relay's storage is unavailable".to_string())
    }
}

impl Relay for InProcess {
    fn connect(&self, grant: Grant) -> Link {
        let (conn, mut outbox) = self.service.connect(grant);
        let (to_hub, mut frames) = mpsc::unbounded_channel::<Vec<u8>>();
        let (from_hub_tx, from_hub) = mpsc::channel::<Vec<u8>>(crate::service::OUTBOX);
        let service = self.service.clone();
        // Frames to the hub, within a connection's byte budget like any device's.
        tokio::spawn(async move {
            let budget = Budget::default();
            while let Some(bytes) = frames.recv().await {
                service.frame(conn, bytes, &budget).await;
            }
            service.disconnect(conn);
        });
        // Frames from the hub; a close ends the link (the automation reconnects).
        tokio::spawn(async move {
            while let Some(out) = outbox.recv().await {
                match out {
                    Outbound::Frame(bytes) => {
                        if from_hub_tx.send(bytes).await.is_err() {
                            break;
                        }
                    }
                    Outbound::Close(why) => {
                        tracing::warn!("the hub closed the automation's connection: {why}");
                        break;
                    }
                }
            }
        });
        Link { to_hub, from_hub }
    }

    fn workspace_document(&self, workspace: &str) -> Result<DocumentId, String> {
        let id = self
            .storage()?
            .workspace_document(workspace, now_seconds())
            .map_err(|e| e.to_string())?;
        self.workspaces.insert(workspace, id);
        Ok(id)
    }

    fn claim_prefix(&self, workspace: &str, device: &str) -> Result<String, String> {
        self.storage()?
            .claim_prefix(workspace, device, None, now_seconds(), || {
                let mut b = [0u8; 4];
                let _ = getrandom::fill(&mut b);
                u32::from_le_bytes(b)
            })
            .map_err(|e| e.to_string())
    }

    fn workspaces(&self) -> Result<Vec<String>, String> {
        self.storage()?.workspaces().map_err(|e| e.to_string())
    }

    fn public_url(&self) -> url::Url {
        self.public_url
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn documents(&self, workspace: &str) -> Result<Vec<DocumentId>, String> {
        self.storage()?
            .documents_in(workspace)
            .map_err(|e| e.to_string())
    }
}
