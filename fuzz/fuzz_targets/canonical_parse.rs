//! The strict parser of canonical statements (src/ledger/canonical.rs) on arbitrary bytes.
//!
//! Properties: never panics; whatever it accepts re-encodes to exactly the bytes it was given
//! (so no non-canonical spelling of a statement is ever accepted); a statement parsed by the
//! generic parser is parsed the same by its kind's own parser, and every other kind's parser
//! refuses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stembus::ledger::canonical::{
    BallotStatement, DeclarationStatement, KeyStatement, ProxyStatement, ResolutionVoteStatement, Statement,
    StatementKind,
};

fuzz_target!(|data: &[u8]| {
    let parsed = Statement::from_bytes(data);
    let ballot = BallotStatement::from_bytes(data);
    let proxy = ProxyStatement::from_bytes(data);
    let declaration = DeclarationStatement::from_bytes(data);
    let key = KeyStatement::from_bytes(data);
    let vote = ResolutionVoteStatement::from_bytes(data);

    // Each kind's parser accepts exactly what it writes.
    if let Ok(s) = &ballot {
        assert_eq!(s.to_bytes(), data, "a ballot accepted in another spelling");
        assert_eq!(s.encoded_len(), data.len());
    }
    if let Ok(s) = &proxy {
        assert_eq!(s.to_bytes(), data, "a proxy accepted in another spelling");
        assert_eq!(s.encoded_len(), data.len());
    }
    if let Ok(s) = &declaration {
        assert_eq!(s.to_bytes(), data, "a declaration accepted in another spelling");
    }
    if let Ok(s) = &key {
        assert_eq!(s.to_bytes(), data, "a key statement accepted in another spelling");
    }
    if let Ok(s) = &vote {
        assert_eq!(s.to_bytes(), data, "a resolution vote accepted in another spelling");
    }

    let accepted_by_kind = [ballot.is_ok(), proxy.is_ok(), declaration.is_ok(), key.is_ok(), vote.is_ok()];
    match parsed {
        Ok(statement) => {
            assert_eq!(statement.to_bytes(), data, "a statement accepted in another spelling");
            // Exactly the kind's own parser agrees; the tag names one kind only.
            let expected = StatementKind::ALL.map(|k| k == statement.kind());
            assert_eq!(accepted_by_kind, expected, "kinds disagree for {:?}", statement.kind());
            let same = match &statement {
                Statement::Ballot(s) => ballot.as_ref().ok() == Some(s),
                Statement::Proxy(s) => proxy.as_ref().ok() == Some(s),
                Statement::Declaration(s) => declaration.as_ref().ok() == Some(s),
                Statement::Key(s) => key.as_ref().ok() == Some(s),
                Statement::ResolutionVote(s) => vote.as_ref().ok() == Some(s),
            };
            assert!(same, "the generic parser and the kind's parser read different statements");
        }
        Err(_) => {
            assert_eq!(
                accepted_by_kind, [false; 5],
                "a kind's parser accepts what the generic parser refuses"
            );
            // The error names where: its message must be writable (no panic in Display).
            let _ = Statement::from_bytes(data).map_err(|e| e.to_string());
        }
    }
});
