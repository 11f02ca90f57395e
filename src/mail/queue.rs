//! Queuing notices in the transaction of the events that cause them: what `Service::execute`
//! calls after appending a command's events, before it commits. A notice is queued exactly when
//! its event is logged; if queuing fails, the command fails and nothing is stored.

use super::notice::{EntryInfo, MailContext, notices_for};
use crate::core::{Association, AssociationId, Instant};
use crate::store::log::{Logged, leaf_of};
use crate::store::{DbConnection, StoreError, notices};

/// Queues the notices of each logged event, computed from `state` (the state after the
/// command's events), at `now`. Returns how many were queued.
pub fn enqueue(
    conn: &mut DbConnection,
    association: AssociationId,
    state: &Association,
    logged: &[Logged],
    ctx: &MailContext,
    now: Instant,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for l in logged {
        let entry = EntryInfo {
            stream: l.stream.clone(),
            index: u64::try_from(l.stream_index).unwrap_or(0),
            leaf_hash: crate::ledger::log::hex(&leaf_of(association, l)),
        };
        let caused = notices_for(state, &l.event, &entry, ctx);
        if !caused.is_empty() {
            queued += notices::enqueue(conn, association, l.seq, &caused, now)?;
        }
    }
    Ok(queued)
}
