//! Queuing notices in the transaction of the events that cause them: `Service::execute`
//! computes them after each command's events, from the state they leave, and stores them after
//! the batch's event rows, before it commits. A notice is queued exactly when
//! its event is logged; if queuing fails, the command fails and nothing is stored.

use super::notice::{EntryInfo, MailContext, notices_for};
use crate::core::{Association, AssociationId, Instant};
use crate::store::log::{Logged, leaf_of};
use crate::store::{DbConnection, StoreError, notices};

/// The notices of logged events, to be stored with [`Caused::store`] once the events' rows are
/// written (a notice refers to its event's row).
#[derive(Debug, Default)]
pub struct Caused {
    /// Each event's sequence number, the notices it causes and when.
    notices: Vec<(i64, Vec<super::notice::Notice>, Instant)>,
}

impl Caused {
    /// Adds the notices of each logged event, computed from `state` (the state after the
    /// command's events), at `now`.
    pub fn add(
        &mut self,
        association: AssociationId,
        state: &Association,
        logged: &[Logged],
        ctx: &MailContext,
        now: Instant,
    ) {
        for l in logged {
            let entry = EntryInfo {
                stream: l.stream.clone(),
                index: u64::try_from(l.stream_index).unwrap_or(0),
                leaf_hash: crate::ledger::log::hex(&leaf_of(association, l)),
            };
            let caused = notices_for(state, &l.event, &entry, ctx);
            if !caused.is_empty() {
                self.notices.push((l.seq, caused, now));
            }
        }
    }

    /// Queues the notices in the persisted outbox. Returns how many were queued.
    pub fn store(self, conn: &mut DbConnection, association: AssociationId) -> Result<usize, StoreError> {
        let mut queued = 0;
        for (seq, caused, now) in &self.notices {
            queued += notices::enqueue(conn, association, *seq, caused, *now)?;
        }
        Ok(queued)
    }
}
