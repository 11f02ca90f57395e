//! Resolutions outside a meeting (Art. 8.12) in the pages. The secretariat proposes one (with
//! the prior knowledge of the board and the supervisory board the statutes require) and
//! concludes it once every member has voted or the voting period has ended; the voter sees the
//! resolutions and, for each member it represents, signs a vote in the browser
//! (`static/sign.js`, the resolution vote statement of docs/encoding.md), sent to the API as the
//! command-line client sends it. The core decides everything: who may vote, until when, and
//! whether the resolution is adopted.
//!
//! How a member voted is shown only to the persons who represent it; every other reader sees the
//! number of votes, as the API answers.

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::chair::see_other;
use super::render::{PageError, value};
use super::secretariat::{decision_kind, field, local_moment};
use super::session::{Page, is_voter};
use super::voter::{represented, voter_of};
use super::{code, voter::script_texts, when};
use crate::core::profile::Notice;
use crate::core::tally::members_in_office;
use crate::core::{Association, AssociationId, Command, Instant, Provision, ResolutionId, WrittenResolution};
use crate::http::AppState;
use crate::http::api::register::new_uuid;
use crate::http::auth::Role;
use crate::http::problem::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{association}/secretariat/resolutions", web::get().to(secretariat_list))
        .route("/{association}/secretariat/resolutions", web::post().to(propose))
        .route("/{association}/secretariat/resolutions/{resolution}/conclusion", web::post().to(conclude))
        .route("/{association}/voter/resolutions/{resolution}", web::get().to(voter_page));
}

/// The kinds of decision there are; the form offers those the rules profile lets be decided
/// outside a meeting.
const KINDS: [&str; 6] =
    ["ordinary", "two_thirds", "statute_amendment", "dissolution", "regulations", "entrenched"];

/// A resolution as the pages show it.
#[derive(Debug, Serialize)]
pub struct ResolutionLine {
    id: String,
    text: String,
    kind: String,
    proposed_at: String,
    closes_at: String,
    /// Not concluded yet.
    open: bool,
    /// Not concluded and the voting period has not ended.
    voting: bool,
    votes: usize,
    members_in_office: u64,
    /// `adopted` or `rejected`, once concluded.
    outcome: Option<String>,
    explanation: Option<String>,
}

fn line(s: &Association, r: &WrittenResolution, now: Instant) -> ResolutionLine {
    ResolutionLine {
        id: r.id.to_string(),
        text: r.text.clone(),
        kind: code(&r.kind),
        proposed_at: when(r.proposed_at),
        closes_at: when(r.closes_at),
        open: r.result.is_none(),
        voting: r.result.is_none() && now < r.closes_at,
        votes: r.votes.len(),
        members_in_office: members_in_office(&s.register, &s.profile),
        outcome: r.result.as_ref().map(|x| code(&x.outcome)),
        explanation: r.result.as_ref().map(|x| x.explanation.clone()),
    }
}

/// Every resolution: the ones not concluded first, then the latest proposed first.
pub fn lines(s: &Association, now: Instant) -> Vec<ResolutionLine> {
    let mut list: Vec<&WrittenResolution> = s.resolutions.values().collect();
    list.sort_by(|x, y| {
        x.result.is_some().cmp(&y.result.is_some()).then_with(|| y.proposed_at.cmp(&x.proposed_at))
    });
    list.into_iter().map(|r| line(s, r, now)).collect()
}

fn resolutions_path(a: AssociationId) -> String {
    format!("/{a}/secretariat/resolutions")
}

/// `GET /{association}/secretariat/resolutions`: the resolutions, the form that proposes one,
/// and the button that concludes an open one.
async fn secretariat_list(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    page.with_role(a, Role::Secretariat)?;
    let now = state.clock.now();
    let (rows, article, kinds) = state
        .read(a, move |s| {
            // Only what may be decided outside a meeting is offered (R7); the core refuses
            // the rest all the same.
            let kinds: Vec<&str> = KINDS
                .into_iter()
                .filter(|k| {
                    decision_kind(k).is_ok_and(|kind| s.profile.decision(kind).notice != Notice::Special)
                })
                .collect();
            (lines(s, now), s.profile.article(Provision::WrittenResolution).to_owned(), kinds)
        })
        .await
        .map_err(|e| page.error(e))?;
    page.render(
        "secretariat/resolutions.html",
        context! {
            association => a.to_string(),
            resolutions => value(rows),
            kinds => kinds,
            article => article,
        },
    )
}

/// `POST /{association}/secretariat/resolutions`: proposes a resolution (Art. 8.12).
async fn propose(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    let me = page.with_role(a, Role::Secretariat)?;
    let pairs = form.into_inner();
    me.check_csrf(&page, field(&pairs, "csrf"))?;
    let text = field(&pairs, "text").trim().to_owned();
    if text.is_empty() {
        return Err(page.error(ApiError::bad_request(
            "form.missing",
            "Give the text of the resolution that the members vote on.",
        )));
    }
    let kind = decision_kind(field(&pairs, "kind")).map_err(|e| page.error(e))?;
    let closes_at = local_moment(
        field(&pairs, "closes_date"),
        field(&pairs, "closes_time"),
        "the end of the voting period",
    )
    .map_err(|e| page.error(e))?;
    let id = ResolutionId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    state
        .execute(
            a,
            Command::ProposeResolution {
                resolution: id,
                text,
                kind,
                closes_at,
                board_informed: field(&pairs, "board_informed") == "yes",
                supervisory_board_informed: field(&pairs, "supervisory_board_informed") == "yes",
            },
        )
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#resolution-{id}", resolutions_path(a))))
}

/// `POST /{association}/secretariat/resolutions/{resolution}/conclusion`: concludes and counts
/// (once every member has voted, or the voting period has ended; the core refuses otherwise).
async fn conclude(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, ResolutionId)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (a, resolution) = path.into_inner();
    let me = page.with_role(a, Role::Secretariat)?;
    me.check_csrf(&page, field(&form, "csrf"))?;
    let known =
        state.read(a, move |s| s.resolutions.contains_key(&resolution)).await.map_err(|e| page.error(e))?;
    if !known {
        return Err(page.error(unknown(resolution)));
    }
    state.execute(a, Command::ConcludeResolution { resolution }).await.map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#resolution-{resolution}", resolutions_path(a))))
}

fn unknown(resolution: ResolutionId) -> ApiError {
    ApiError::not_found("resolution.unknown", format!("There is no resolution {resolution}."))
}

/// A member the voter may vote for on the resolution.
#[derive(Debug, Serialize)]
struct VoteForm {
    member: String,
    member_name: String,
    suspended: bool,
    /// The member's vote as it stands, for its representatives' eyes.
    cast: Option<String>,
    open: bool,
}

/// `GET /{association}/voter/resolutions/{resolution}`: the text, the kind, the voting period,
/// the number of votes, the result once concluded, and a vote form per member the person
/// represents.
async fn voter_page(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, ResolutionId)>,
) -> Result<HttpResponse, PageError> {
    let (a, id) = path.into_inner();
    let person = page.within(a)?.caller.person;
    let now = state.clock.now();
    let found = state
        .read(a, move |s| {
            let view = s.resolutions.get(&id).map(|r| {
                let resolution = line(s, r, now);
                let forms: Vec<VoteForm> = represented(s, person)
                    .into_iter()
                    .filter_map(|m| s.register.members.get(&m).map(|x| (m, x)))
                    .map(|(m, x)| VoteForm {
                        member: m.to_string(),
                        member_name: x.name.clone(),
                        suspended: x.suspended,
                        cast: r.votes.get(&m).map(|b| code(&b.choice)),
                        open: resolution.voting && !x.suspended,
                    })
                    .collect();
                (resolution, forms)
            });
            (is_voter(s, person), view, s.profile.article(Provision::WrittenResolution).to_owned())
        })
        .await
        .map_err(|e| page.error(e))?;
    let (voter, view, article) = found;
    voter_of(&page, a, voter)?;
    let (resolution, forms) = view.ok_or_else(|| page.error(unknown(id)))?;
    page.render(
        "voter/resolution.html",
        context! {
            association => a.to_string(),
            person => person.to_string(),
            resolution => value(resolution),
            forms => value(forms),
            article => article,
            texts => script_texts(page.lang),
        },
    )
}
