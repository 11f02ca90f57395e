//! A notice as a message: subject, plain text, HTML, attachments, from the templates in
//! `templates/mail/LANG/` (compiled into the binary). One file per kind and part:
//! `KIND.subject.txt`, `KIND.txt`, `KIND.html`; the HTML parts extend `layout.html`. The
//! convocation has two more: `convocation.proposal.txt` (each attached proposal, Art. 20.3)
//! and `convocation.ics.txt` (the invitation's description).
//!
//! The templates are MiniJinja: values in `.html` templates are HTML-escaped automatically,
//! those in `.txt` templates are not. A value a template names that the context lacks is an
//! error ([`RenderError::Template`]), not an empty string.

use std::sync::OnceLock;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value as TemplateValue};
use serde_json::Value;

use super::ical;
use super::notice::{MailContext, Notice, NoticeKind, terms};
use crate::core::Instant;
use crate::core::register::Language;

/// A message, ready for a transport.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// The full MIME type, with its parameters (`text/calendar; method=REQUEST; charset=UTF-8`).
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The built-in templates do not load: a defect in the build.
    #[error("the mail templates do not load: {0}")]
    Templates(String),
    /// A template failed on this notice's context (a value it names is missing, say).
    #[error("the mail template {template} failed: {message}")]
    Template { template: String, message: String },
    /// The notice's context lacks what an attachment needs.
    #[error("the {kind} notice lacks {field} in its context")]
    Context { kind: &'static str, field: &'static str },
}

macro_rules! templates {
    ($($lang:literal: [$($name:literal),* $(,)?]),* $(,)?) => {
        &[$($((
            concat!($lang, "/", $name),
            include_str!(concat!("../../templates/mail/", $lang, "/", $name)),
        ),)*)*]
    };
}

/// Every template, by name (`LANG/FILE`).
const TEMPLATES: &[(&str, &str)] = templates! {
    "nl": [
        "layout.html",
        "convocation.subject.txt", "convocation.txt", "convocation.html",
        "convocation.proposal.txt", "convocation.ics.txt",
        "advance_voting_reminder.subject.txt", "advance_voting_reminder.txt", "advance_voting_reminder.html",
        "proxy_granted.subject.txt", "proxy_granted.txt", "proxy_granted.html",
        "proxy_revoked.subject.txt", "proxy_revoked.txt", "proxy_revoked.html",
        "ballot_receipt.subject.txt", "ballot_receipt.txt", "ballot_receipt.html",
        "outcome.subject.txt", "outcome.txt", "outcome.html",
        "members_request.subject.txt", "members_request.txt", "members_request.html",
        "resolution_proposed.subject.txt", "resolution_proposed.txt", "resolution_proposed.html",
        "resolution_concluded.subject.txt", "resolution_concluded.txt", "resolution_concluded.html",
        "outcome_challenged.subject.txt", "outcome_challenged.txt", "outcome_challenged.html",
    ],
    "en": [
        "layout.html",
        "convocation.subject.txt", "convocation.txt", "convocation.html",
        "convocation.proposal.txt", "convocation.ics.txt",
        "advance_voting_reminder.subject.txt", "advance_voting_reminder.txt", "advance_voting_reminder.html",
        "proxy_granted.subject.txt", "proxy_granted.txt", "proxy_granted.html",
        "proxy_revoked.subject.txt", "proxy_revoked.txt", "proxy_revoked.html",
        "ballot_receipt.subject.txt", "ballot_receipt.txt", "ballot_receipt.html",
        "outcome.subject.txt", "outcome.txt", "outcome.html",
        "members_request.subject.txt", "members_request.txt", "members_request.html",
        "resolution_proposed.subject.txt", "resolution_proposed.txt", "resolution_proposed.html",
        "resolution_concluded.subject.txt", "resolution_concluded.txt", "resolution_concluded.html",
        "outcome_challenged.subject.txt", "outcome_challenged.txt", "outcome_challenged.html",
    ],
};

fn environment() -> Result<&'static Environment<'static>, RenderError> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| e.to_string())?;
        env.set_syntax(syntax);
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| format!("{name}: {e:#}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|e| RenderError::Templates(e.clone()))
}

fn language_dir(language: Language) -> &'static str {
    match language {
        Language::Nl => "nl",
        Language::En => "en",
    }
}

fn render_template(name: &str, context: &TemplateValue) -> Result<String, RenderError> {
    let env = environment()?;
    let failed =
        |e: minijinja::Error| RenderError::Template { template: name.to_owned(), message: format!("{e:#}") };
    env.get_template(name).map_err(failed)?.render(context.clone()).map_err(failed)
}

/// A notice as a message in its language.
pub fn render(notice: &Notice, ctx: &MailContext) -> Result<Rendered, RenderError> {
    let dir = language_dir(notice.language);
    let kind = notice.kind.code();
    let context = TemplateValue::from(Serde(&notice.context));
    let subject = render_template(&format!("{dir}/{kind}.subject.txt"), &context)?;
    let text = render_template(&format!("{dir}/{kind}.txt"), &context)?;
    let html = render_template(&format!("{dir}/{kind}.html"), &context)?;
    let attachments = match notice.kind {
        NoticeKind::Convocation => convocation_attachments(notice, ctx, &context)?,
        _ => Vec::new(),
    };
    Ok(Rendered { subject: one_line(&subject), text: tidy(&text), html, attachments })
}

/// A subject is one line: line breaks and runs of white space become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text without trailing spaces or runs of more than one empty line.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut empty = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            empty += 1;
            if empty > 1 {
                continue;
            }
        } else {
            empty = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    format!("{trimmed}\n")
}

fn field<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn instant(
    value: &Value,
    path: &[&str],
    kind: &'static str,
    name: &'static str,
) -> Result<Instant, RenderError> {
    field(value, path)
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or(RenderError::Context { kind, field: name })
}

fn text_of(value: &Value, path: &[&str]) -> String {
    field(value, path).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The proposals (Art. 20.3) and the calendar invitation.
fn convocation_attachments(
    notice: &Notice,
    ctx: &MailContext,
    context: &TemplateValue,
) -> Result<Vec<Attachment>, RenderError> {
    const KIND: &str = "convocation";
    let dir = language_dir(notice.language);
    let c = &notice.context;
    let mut attachments = Vec::new();
    if let Some(proposals) = c.get("proposals").and_then(Value::as_array) {
        for proposal in proposals {
            let filename = proposal
                .get("filename")
                .and_then(Value::as_str)
                .ok_or(RenderError::Context { kind: KIND, field: "proposals[].filename" })?;
            let with_proposal =
                minijinja::context! { proposal => TemplateValue::from(Serde(proposal)), ..context.clone() };
            let body = render_template(&format!("{dir}/convocation.proposal.txt"), &with_proposal)?;
            attachments.push(Attachment {
                filename: filename.to_owned(),
                content_type: "text/plain; charset=utf-8".into(),
                body: tidy(&body).into_bytes(),
            });
        }
    }

    let meeting_id = text_of(c, &["meeting", "id"]);
    if meeting_id.is_empty() {
        return Err(RenderError::Context { kind: KIND, field: "meeting.id" });
    }
    let start = instant(c, &["meeting", "starts_at_utc"], KIND, "meeting.starts_at_utc")?;
    let end = instant(c, &["meeting", "ends_at_utc"], KIND, "meeting.ends_at_utc")
        .unwrap_or(ical::default_end(start));
    let stamp = instant(c, &["convocation", "at_utc"], KIND, "convocation.at_utc")?;
    let place = text_of(c, &["meeting", "place"]);
    let description = render_template(&format!("{dir}/convocation.ics.txt"), context)?;
    let recipient = text_of(c, &["recipient", "name"]);
    let invitation = ical::Invitation {
        uid: format!("{meeting_id}@stembus"),
        stamp,
        start,
        end,
        summary: text_of(c, &["meeting", "title"]),
        location: place.clone(),
        description: tidy(&description).trim_end().to_owned(),
        url: field(c, &["meeting", "place_is_link"])
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .then(|| place.trim().to_owned()),
        organizer_name: ctx.association_name.clone(),
        // RFC 5545 §3.8.4.3: the organizer is a calendar user address, a mailto: URI.
        organizer_uri: match &ctx.organizer_email {
            Some(address) => format!("mailto:{address}"),
            None => ctx.public_url.trim_end_matches('/').to_owned(),
        },
        attendee: Some((recipient, notice.to.clone())),
    };
    attachments.push(Attachment {
        filename: terms(notice.language).invite_filename.clone(),
        content_type: ical::CONTENT_TYPE.into(),
        body: ical::invitation(&invitation).into_bytes(),
    });
    Ok(attachments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_loads() {
        assert!(environment().is_ok(), "{:?}", environment().err());
        for kind in NoticeKind::ALL {
            for dir in ["nl", "en"] {
                for part in ["subject.txt", "txt", "html"] {
                    let name = format!("{dir}/{}.{part}", kind.code());
                    assert!(TEMPLATES.iter().any(|(n, _)| *n == name), "no template {name}");
                }
            }
        }
    }

    #[test]
    fn plain_text_is_tidied() {
        assert_eq!(tidy("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
        assert_eq!(one_line(" Oproeping\n ALV \r\n"), "Oproeping ALV");
    }
}
