//! Live signals for the chair's view: every accepted event is published to listeners of its
//! association, who read the state again and send a fresh snapshot as a server-sent event.

use tokio::sync::broadcast;

use crate::core::{AssociationId, MeetingId};
use crate::store::log::Logged;

/// That something changed: an association's event, with its meeting if it has one.
#[derive(Debug, Clone)]
pub struct Signal {
    pub association: AssociationId,
    pub meeting: Option<MeetingId>,
    pub seq: i64,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Hub {
    sender: broadcast::Sender<Signal>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl Hub {
    pub fn publish(&self, association: AssociationId, logged: &[Logged]) {
        for l in logged {
            let kind = serde_json::to_value(&l.event)
                .ok()
                .and_then(|v| v.get("event").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_default();
            // Nobody listening is not an error.
            let _ =
                self.sender.send(Signal { association, meeting: l.event.fact.meeting(), seq: l.seq, kind });
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.sender.subscribe()
    }
}
