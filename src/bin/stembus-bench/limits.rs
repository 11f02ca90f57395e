//! The limits every figure is divided by, measured in the same run on the same machine: the
//! durable insert rate of the database itself, and the Ed25519 verification rates.

use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use stembus::store::{Backend, Store};

/// Rows a second into a bare table of `store`'s database (an id and a 300-byte text, about an
/// event's size), committed durably `per_txn` rows at a time, for about `budget` (at least
/// `min_rows` rows). The table is dropped afterwards.
pub fn insert_rate(store: &Store, per_txn: usize, budget: Duration, min_rows: usize) -> anyhow::Result<f64> {
    let mut conn = store.connection()?;
    let create = match store.backend() {
        Backend::Sqlite => "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        Backend::Postgres => "CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)",
    };
    diesel::sql_query("DROP TABLE IF EXISTS bench_raw").execute(&mut *conn)?;
    diesel::sql_query(create).execute(&mut *conn)?;
    let insert = format!("INSERT INTO bench_raw (body) VALUES ('{}')", "e".repeat(300));
    let start = Instant::now();
    let mut rows = 0usize;
    while rows < min_rows || start.elapsed() < budget {
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            for _ in 0..per_txn {
                diesel::sql_query(&insert).execute(c)?;
            }
            Ok(())
        })?;
        rows += per_txn;
    }
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    diesel::sql_query("DROP TABLE bench_raw").execute(&mut *conn)?;
    Ok(rate)
}

/// Signed messages of `n` distinct keys, each message the size of a ballot statement.
pub fn signed_messages(n: usize) -> Vec<(VerifyingKey, Vec<u8>, Signature)> {
    (0..n)
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let key = SigningKey::from_bytes(&seed);
            let message = format!("stembus bench statement {i:0>150}").into_bytes();
            let signature = key.sign(&message);
            (key.verifying_key(), message, signature)
        })
        .collect()
}

/// `verify_strict` calls a second on one thread, for about `budget`.
pub fn strict_rate(items: &[(VerifyingKey, Vec<u8>, Signature)], budget: Duration) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < budget || done == 0 {
        for (key, message, signature) in items {
            key.verify_strict(message, signature)?;
        }
        done += items.len();
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// Signatures a second verified in batches of `batch` (as the auditor's verifier does) on
/// `threads` threads, for about `budget`.
pub fn batch_rate(
    items: &[(VerifyingKey, Vec<u8>, Signature)],
    batch: usize,
    threads: usize,
    budget: Duration,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let per_thread = items.len().div_ceil(threads.max(1));
    let counts: Vec<anyhow::Result<usize>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread.max(1))
            .map(|part| {
                scope.spawn(move || -> anyhow::Result<usize> {
                    let mut done = 0usize;
                    while start.elapsed() < budget || done == 0 {
                        for chunk in part.chunks(batch.max(1)) {
                            let messages: Vec<&[u8]> = chunk.iter().map(|(_, m, _)| m.as_slice()).collect();
                            let signatures: Vec<Signature> = chunk.iter().map(|(_, _, s)| *s).collect();
                            let keys: Vec<VerifyingKey> = chunk.iter().map(|(k, _, _)| *k).collect();
                            ed25519_dalek::verify_batch(&messages, &signatures, &keys)?;
                            done += chunk.len();
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a verifying thread panicked"))))
            .collect()
    });
    let mut done = 0;
    for c in counts {
        done += c?;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}
